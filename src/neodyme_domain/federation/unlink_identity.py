"""Unlink a provider from one's account: it signs in to it no more."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import IdentityNotFound, LastSignInMethod
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import User, UserId
from neodyme_domain.notices import security_notice
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.sign_in_ways import sign_in_ways


@dataclass(frozen=True, slots=True)
class IdentityUnlinking:
    user: User
    identity_id: UserId
    origin: RequestOrigin = NO_ORIGIN


class UnlinkIdentity:
    """Refused (LAST_SIGN_IN_METHOD) when it is the account's last way to sign in.
    Recorded as ``identity_unlinked`` and told to the owner. Sessions it started live on,
    as after removing a passkey: ending them is the sessions list's job."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: IdentityUnlinking) -> None:
        now = self._clock.now()
        async with self._uow as uow:
            user = await uow.users.get(cmd.user.id) or cmd.user
            identities = await uow.linked_identities.for_user(user.id)
            identity = next((i for i in identities if i.id == cmd.identity_id), None)
            if identity is None:
                raise IdentityNotFound(context={"user_id": user.id})
            if await sign_in_ways(uow, user) <= 1:
                raise LastSignInMethod(context={"user_id": user.id})
            if not await uow.linked_identities.delete(identity.id):
                raise IdentityNotFound(context={"user_id": user.id})  # unlinked meanwhile
            await uow.events.record(
                SecurityEvent.of(
                    "identity_unlinked",
                    now,
                    user.id,
                    cmd.origin,
                    provider=identity.provider,
                    identity_id=str(identity.id),
                )
            )
            notice = security_notice(
                "identity_unlinked",
                user,
                now,
                cmd.origin,
                provider=identity.provider,
                email=identity.email,
            )
            await uow.outbox.add(notice, now)
            await uow.commit()
