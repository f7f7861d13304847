"""Remove one of one's passkeys: it signs in no more."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import LastSignInMethod
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.notices import security_notice
from neodyme_domain.passkeys.owned import not_found, owned_passkey
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.sign_in_ways import sign_in_ways


@dataclass(frozen=True, slots=True)
class PasskeyRemoval:
    user: User
    passkey_id: str
    origin: RequestOrigin = NO_ORIGIN


class RemovePasskey:
    """Recorded as ``passkey_removed`` and told to the owner. Sessions the passkey
    started live on: ending them is a separate choice (the sessions list), as it is
    after turning two-factor sign-in off. An account made by another provider has no
    password: its last passkey goes only while a linked provider still signs it in
    (LAST_SIGN_IN_METHOD otherwise)."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: PasskeyRemoval) -> None:
        now = self._clock.now()
        async with self._uow as uow:
            passkey = await owned_passkey(uow, cmd.user, cmd.passkey_id)
            if await sign_in_ways(uow, cmd.user) <= 1:
                raise LastSignInMethod(context={"user_id": cmd.user.id})
            if not await uow.passkeys.delete(passkey.id):
                raise not_found(cmd.user)  # removed meanwhile
            await uow.events.record(
                SecurityEvent.of(
                    "passkey_removed",
                    now,
                    cmd.user.id,
                    cmd.origin,
                    passkey_id=passkey.id,
                    name=passkey.name,
                )
            )
            await uow.outbox.add(
                security_notice("passkey_removed", cmd.user, now, cmd.origin, name=passkey.name),
                now,
            )
            await uow.commit()
