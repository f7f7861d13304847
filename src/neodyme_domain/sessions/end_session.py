"""End one session of an account: one's own, or a user's for a superuser."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.access import target_user
from neodyme_domain.errors import SessionNotFound
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.sessions.end import end_session, session_ended


@dataclass(frozen=True, slots=True)
class EndSessionCommand:
    requester: User
    user_id: UserId
    session_id: str
    origin: RequestOrigin = NO_ORIGIN


class EndSession:
    """Its refresh tokens die with it, and its access tokens are refused from the next
    request on (``GetCurrentUser``), in every process. An unknown, ended, expired or
    another account's session is one answer, SESSION_NOT_FOUND: session ids are not
    secrets, but nobody learns about another account's sessions here. Ending the caller's
    own current session is allowed: it is a logout."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: EndSessionCommand) -> None:
        now = self._clock.now()
        async with self._uow as uow:
            user = await target_user(uow, cmd.requester, cmd.user_id)
            session = await uow.sessions.get(cmd.session_id)
            if (
                session is None
                or session.user_id != user.id
                or not session.is_live(now)
                or not await end_session(uow, session.id, now)  # False: ended meanwhile
            ):
                raise SessionNotFound(context={"user_id": user.id})
            await uow.events.record(
                session_ended(session.id, user.id, cmd.requester, now, cmd.origin)
            )
            await uow.commit()
