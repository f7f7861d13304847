"""Set a new password with a reset link."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.notices import security_notice
from neodyme_domain.passwords import PasswordPolicy
from neodyme_domain.ports import Clock, PasswordHasher, UnitOfWork
from neodyme_domain.sessions.end import end_all_sessions
from neodyme_domain.tokens.model import OneTimePurpose
from neodyme_domain.use_cases.fresh import fresh_copy
from neodyme_domain.use_cases.links import find_link_user, redeem_link


@dataclass(frozen=True, slots=True)
class ResetPasswordCommand:
    token: str
    new_password: str
    origin: RequestOrigin = NO_ORIGIN


class ResetPassword:
    """The link is checked before the password, and spent only with the change: a weak
    password does not burn the link. Every session ends, and the address counts as
    verified (the reset proved the mailbox)."""

    def __init__(
        self, *, uow: UnitOfWork, hasher: PasswordHasher, policy: PasswordPolicy, clock: Clock
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._policy = policy
        self._clock = clock

    async def __call__(self, cmd: ResetPasswordCommand) -> None:
        purpose = OneTimePurpose.PASSWORD_RESET
        async with self._uow as uow:
            seen = await find_link_user(uow, cmd.token, purpose, self._clock.now())
        self._policy.check(cmd.new_password)
        hashed = await self._hasher.hash(cmd.new_password)
        now = self._clock.now()
        async with self._uow as uow:
            await redeem_link(uow, cmd.token, purpose, now)
            user = await fresh_copy(uow, seen)
            user.change_password(hashed, now)
            user.mark_verified(now)
            await uow.users.update(user)
            await end_all_sessions(uow, user.id, now)
            await uow.events.record(SecurityEvent.of("password_reset", now, user.id, cmd.origin))
            await uow.outbox.add(security_notice("password_changed", user, now, cmd.origin), now)
            await uow.commit()
