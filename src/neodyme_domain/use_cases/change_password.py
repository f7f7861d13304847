"""Change one's password, proving the current one."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import InvalidCredentials
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.notices import security_notice
from neodyme_domain.passwords import PasswordPolicy, check_length_bound
from neodyme_domain.ports import Clock, PasswordHasher, UnitOfWork
from neodyme_domain.sessions.end import end_all_sessions
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class ChangePasswordCommand:
    user: User
    current_password: str
    new_password: str
    origin: RequestOrigin = NO_ORIGIN


class ChangePassword:
    """Every session of the user ends: refresh tokens are revoked and the token version
    moves, so access tokens (this request's included) stop working at once."""

    def __init__(
        self, *, uow: UnitOfWork, hasher: PasswordHasher, policy: PasswordPolicy, clock: Clock
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._policy = policy
        self._clock = clock

    async def __call__(self, cmd: ChangePasswordCommand) -> None:
        check_length_bound(cmd.current_password)
        if not await self._hasher.verify(cmd.user.hashed_password, cmd.current_password):
            raise InvalidCredentials(context={"user_id": cmd.user.id, "reason": "change"})
        self._policy.check(cmd.new_password)
        hashed = await self._hasher.hash(cmd.new_password)
        now = self._clock.now()
        async with self._uow as uow:
            user = await fresh_copy(uow, cmd.user)
            user.change_password(hashed, now)
            await uow.users.update(user)
            await end_all_sessions(uow, user.id, now)
            await uow.events.record(SecurityEvent.of("password_changed", now, user.id, cmd.origin))
            await uow.outbox.add(security_notice("password_changed", user, now, cmd.origin), now)
            await uow.commit()
