"""Administration: deactivate or reactivate an account."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import Forbidden, UserNotFound
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.sessions.end import end_all_sessions


@dataclass(frozen=True, slots=True)
class SetUserActiveCommand:
    requester: User
    user_id: UserId
    is_active: bool
    origin: RequestOrigin = NO_ORIGIN


class SetUserActive:
    """Deactivation takes effect at once: the token version moves (access tokens fail on
    their next request) and refresh tokens are revoked. A superuser cannot deactivate
    themselves, so the last administrator cannot lock everyone out by mistake."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: SetUserActiveCommand) -> User:
        requester = cmd.requester
        if not requester.is_superuser:
            raise Forbidden(context={"requester": requester.id, "action": "set active"})
        if cmd.user_id == requester.id and not cmd.is_active:
            raise Forbidden("You cannot deactivate your own account")
        now = self._clock.now()
        async with self._uow as uow:
            user = await uow.users.get(cmd.user_id)
            if user is None:
                raise UserNotFound(context={"user_id": cmd.user_id})
            if user.is_active == cmd.is_active:
                return user
            if cmd.is_active:
                user.activate(now)
            else:
                user.deactivate(now)
                await end_all_sessions(uow, user.id, now)
            await uow.users.update(user)
            kind = "user_activated" if cmd.is_active else "user_deactivated"
            await uow.events.record(
                SecurityEvent.of(kind, now, user.id, cmd.origin, by=str(requester.id))
            )
            await uow.commit()
        return user
