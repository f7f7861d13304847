"""End every session of an account but one: "sign out everywhere else"."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.access import target_user
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.sessions.end import end_all_sessions, session_ended


@dataclass(frozen=True, slots=True)
class EndOtherSessionsCommand:
    requester: User
    user_id: UserId
    keep: str | None
    """The session that stays (the caller's own); None ends them all (an administrator
    signing a user out everywhere)."""
    origin: RequestOrigin = NO_ORIGIN


class EndOtherSessions:
    """One ``session_ended`` event per session ended, as ``EndSession`` records; returns
    how many there were."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: EndOtherSessionsCommand) -> int:
        now = self._clock.now()
        async with self._uow as uow:
            user = await target_user(uow, cmd.requester, cmd.user_id)
            ended = await end_all_sessions(uow, user.id, now, keep=cmd.keep)
            for session_id in ended:
                await uow.events.record(
                    session_ended(session_id, user.id, cmd.requester, now, cmd.origin)
                )
            await uow.commit()
        return len(ended)
