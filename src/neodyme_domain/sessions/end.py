"""Ending sessions: the session record and its refresh-token family go together.

Once a session is ended its refresh tokens are revoked and ``GetCurrentUser`` refuses the
access tokens that carry its id, from the next request on, in every process.
"""

from __future__ import annotations

from datetime import datetime

from neodyme_domain.messages import RequestOrigin, SecurityEvent
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import UnitOfWork


async def end_session(uow: UnitOfWork, session_id: str, at: datetime) -> bool:
    """End one session; False if it was unknown or had ended already (its tokens are
    revoked either way: a family without a live session must not refresh)."""
    ended = await uow.sessions.end(session_id, at)
    await uow.refresh_tokens.revoke_family(session_id, at)
    return ended


async def end_all_sessions(
    uow: UnitOfWork, user_id: UserId, at: datetime, *, keep: str | None = None
) -> list[str]:
    """End every session of the user but ``keep``; return the ids of those ended."""
    ended = await uow.sessions.end_all_for_user(user_id, at, keep=keep)
    if keep is None:
        await uow.refresh_tokens.revoke_all_for_user(user_id, at)
    else:
        for session_id in ended:
            await uow.refresh_tokens.revoke_family(session_id, at)
    return ended


def session_ended(
    session_id: str, user_id: UserId, by: User, at: datetime, origin: RequestOrigin
) -> SecurityEvent:
    """The ``session_ended`` event of a session its owner (``by: user``) or an
    administrator (``by: admin``) ended."""
    who = "user" if by.id == user_id else "admin"
    return SecurityEvent.of("session_ended", at, user_id, origin, session_id=session_id, by=who)
