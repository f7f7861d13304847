"""In-memory ``SessionStore``, over the state of ``neodyme_adapters.memory.store``."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime

from neodyme_domain.model import User, UserId
from neodyme_domain.sessions.model import Session


class InMemorySessionStore:
    def __init__(self, sessions: dict[str, Session], users: dict[UserId, User]) -> None:
        self._sessions = sessions
        self._users = users

    async def add(self, session: Session) -> None:
        self._sessions[session.id] = session

    async def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    async def get_with_user(self, session_id: str) -> tuple[Session, User] | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        # A session's user always exists: deleting a user deletes its sessions.
        return session, copy.copy(self._users[session.user_id])

    async def touch(self, session_id: str, at: datetime) -> None:
        session = self._sessions.get(session_id)
        if session is not None and session.last_used_at < at:
            self._sessions[session_id] = replace(session, last_used_at=at)

    async def list_live(self, user_id: UserId, now: datetime) -> list[Session]:
        live = (s for s in self._sessions.values() if s.user_id == user_id and s.is_live(now))
        by_id = sorted(live, key=lambda s: s.id)
        return sorted(by_id, key=lambda s: s.last_used_at, reverse=True)

    async def end(self, session_id: str, at: datetime) -> bool:
        session = self._sessions.get(session_id)
        if session is None or session.ended_at is not None:
            return False
        self._sessions[session_id] = replace(session, ended_at=at)
        return True

    async def end_all_for_user(
        self, user_id: UserId, at: datetime, *, keep: str | None = None
    ) -> list[str]:
        ended = sorted(
            s.id
            for s in self._sessions.values()
            if s.user_id == user_id and s.ended_at is None and s.id != keep
        )
        for session_id in ended:
            self._sessions[session_id] = replace(self._sessions[session_id], ended_at=at)
        return ended

    async def has_any(self, user_id: UserId) -> bool:
        return any(s.user_id == user_id for s in self._sessions.values())

    async def seen_device(
        self, user_id: UserId, user_agent: str | None, client_ip: str | None, since: datetime
    ) -> bool:
        return any(
            s.user_id == user_id
            and s.user_agent == user_agent
            and s.client_ip == client_ip
            and s.last_used_at >= since
            for s in self._sessions.values()
        )
