"""``neodyme keys rotate``: a new signing key, published ahead of its first signature."""

from __future__ import annotations

from datetime import timedelta

from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.ports import Clock, KeyMaker, SecretBox, UnitOfWork
from neodyme_domain.tokens.signing_keys import (
    KeyState,
    SigningAlgorithm,
    SigningKey,
    key_statuses,
    next_key,
)


class RotateSigningKey:
    """Add the next generation, active ``publish_ahead`` from now (signing_keys explains
    why), and delete the rows of retired keys: nothing they signed is still alive."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        maker: KeyMaker,
        box: SecretBox,
        clock: Clock,
        lifetime: timedelta,
        publish_ahead: timedelta,
    ) -> None:
        self._uow = uow
        self._maker = maker
        self._box = box
        self._clock = clock
        self._lifetime = lifetime
        self._publish_ahead = publish_ahead

    async def __call__(
        self, algorithm: SigningAlgorithm, *, at_once: bool = False, after: int | None = None
    ) -> SigningKey:
        """``at_once``: active now, not ``publish_ahead`` from now; only for a key no
        process can have needed yet (``EnsureSigningKey``). ``after``: add the key only
        if the newest generation is still this one (0: none), the one its caller judged."""
        material = self._maker.make(algorithm)
        sealed = self._box.seal(material.private_pem)
        async with self._uow as uow:
            now = self._clock.now()
            keys = await uow.signing_keys.all()
            active_from = now if at_once else now + self._publish_ahead
            key = next_key(keys, material, algorithm, sealed, now=now, active_from=active_from)
            moved = after is not None and key.generation != after + 1
            if moved or not await uow.signing_keys.add(key):
                raise ServiceUnavailable(
                    "Another rotation added a key at the same moment; list the keys, then retry",
                    context={"reason": "concurrent rotation"},
                )
            retired = key_statuses(keys, now, self._lifetime)
            await uow.signing_keys.delete(
                [status.key.kid for status in retired if status.state is KeyState.RETIRED]
            )
            await uow.commit()
        return key
