"""Re-seal the signing keys' private keys under the newest encryption key."""

from __future__ import annotations

from neodyme_domain.ports import SecretBox, UnitOfWork


class ResealSigningKeys:
    """The signing keys' part of an encryption key rotation (``neodyme mfa reseal`` runs
    it with the TOTP secrets'): afterwards no signing key needs the old encryption key.
    One transaction; idempotent."""

    def __init__(self, *, uow: UnitOfWork, box: SecretBox) -> None:
        self._uow = uow
        self._box = box

    async def __call__(self) -> int:
        """How many keys were re-sealed."""
        async with self._uow as uow:
            keys = await uow.signing_keys.all()
            for key in keys:
                await uow.signing_keys.reseal(key.kid, self._box.reseal(key.sealed_private_key))
            await uow.commit()
        return len(keys)
