"""List an account's live sessions: one's own, or a user's for a superuser."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.access import target_user
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.sessions.model import Session


@dataclass(frozen=True, slots=True)
class SessionsQuery:
    requester: User
    user_id: UserId
    current_session_id: str | None = None
    """The caller's own session, marked ``current`` in the answer."""


@dataclass(frozen=True, slots=True)
class SessionView:
    session: Session
    current: bool


class ListSessions:
    """Live sessions only (neither ended nor past their absolute expiry), most recently
    used first: what a user needs to recognise a device they do not know."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, query: SessionsQuery) -> list[SessionView]:
        async with self._uow as uow:
            user = await target_user(uow, query.requester, query.user_id)
            sessions = await uow.sessions.list_live(user.id, self._clock.now())
        return [SessionView(s, current=s.id == query.current_session_id) for s in sessions]
