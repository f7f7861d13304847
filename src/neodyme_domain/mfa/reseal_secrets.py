"""Re-encrypt every stored TOTP secret under the newest key (``neodyme mfa reseal``)."""

from __future__ import annotations

from dataclasses import replace

from neodyme_domain.ports import SecretBox, UnitOfWork


class ResealSecrets:
    """The step of a key rotation between adding the new key (first) and dropping the old
    one: afterwards no secret needs the old key. One transaction; idempotent."""

    def __init__(self, *, uow: UnitOfWork, box: SecretBox) -> None:
        self._uow = uow
        self._box = box

    async def __call__(self) -> int:
        """How many secrets were re-sealed."""
        async with self._uow as uow:
            authenticators = await uow.totp.list_all()
            for authenticator in authenticators:
                sealed = self._box.reseal(authenticator.sealed_secret)
                await uow.totp.put(replace(authenticator, sealed_secret=sealed))
            await uow.commit()
        return len(authenticators)
