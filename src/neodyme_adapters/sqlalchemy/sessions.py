"""``SessionStore`` over the unit of work's connection (see ``repositories``).

Every state change is one conditional UPDATE: on PostgreSQL a concurrent writer blocks on
the row lock and then re-checks the WHERE clause against the committed row; SQLite
serialises writers. So of concurrent ``end`` calls exactly one sees the row.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, bindparam, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from neodyme_adapters.sqlalchemy import mapping
from neodyme_adapters.sqlalchemy.tables import sessions, users
from neodyme_domain.model import User, UserId
from neodyme_domain.sessions.model import Session

_INSERT_SESSION = insert(sessions)
_SESSION_BY_ID = select(sessions).where(sessions.c.id == bindparam("session_id"))
_SESSION_WITH_USER = (
    select(
        *(column.label(f"s_{column.name}") for column in sessions.c),
        *(column.label(f"u_{column.name}") for column in users.c),
    )
    .join_from(sessions, users, users.c.id == sessions.c.user_id)
    .where(sessions.c.id == bindparam("session_id"))
)
"""Read on every authenticated request (``GetCurrentUser``), one primary-key read of
each table in one round trip; built once, with each table's columns labelled apart."""


def _columns_of(row: Any, table: Table, prefix: str) -> SimpleNamespace:
    """One table's part of a joined row, by its own column names (what ``mapping`` reads)."""
    return SimpleNamespace(**{c.name: getattr(row, f"{prefix}{c.name}") for c in table.c})


class SqlAlchemySessionStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, session: Session) -> None:
        await self._conn.execute(_INSERT_SESSION, mapping.session_to_row(session))

    async def get(self, session_id: str) -> Session | None:
        row = (await self._conn.execute(_SESSION_BY_ID, {"session_id": session_id})).first()
        return mapping.session_from_row(row) if row is not None else None

    async def get_with_user(self, session_id: str) -> tuple[Session, User] | None:
        row = (await self._conn.execute(_SESSION_WITH_USER, {"session_id": session_id})).first()
        if row is None:
            return None
        session = mapping.session_from_row(_columns_of(row, sessions, "s_"))
        return session, mapping.user_from_row(_columns_of(row, users, "u_"))

    async def touch(self, session_id: str, at: datetime) -> None:
        await self._conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.last_used_at < at)
            .values(last_used_at=at)
        )

    async def list_live(self, user_id: UserId, now: datetime) -> list[Session]:
        stmt = (
            select(sessions)
            .where(
                sessions.c.user_id == user_id,
                sessions.c.ended_at.is_(None),
                sessions.c.expires_at > now,
            )
            .order_by(sessions.c.last_used_at.desc(), sessions.c.id)
        )
        return [mapping.session_from_row(row) for row in await self._conn.execute(stmt)]

    async def end(self, session_id: str, at: datetime) -> bool:
        stmt = (
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.ended_at.is_(None))
            .values(ended_at=at)
            .returning(sessions.c.id)
        )
        return len((await self._conn.execute(stmt)).all()) == 1

    async def end_all_for_user(
        self, user_id: UserId, at: datetime, *, keep: str | None = None
    ) -> list[str]:
        stmt = (
            update(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.ended_at.is_(None))
            .values(ended_at=at)
            .returning(sessions.c.id)
        )
        if keep is not None:
            stmt = stmt.where(sessions.c.id != keep)
        return sorted(row.id for row in await self._conn.execute(stmt))

    async def has_any(self, user_id: UserId) -> bool:
        stmt = select(exists().where(sessions.c.user_id == user_id))
        return bool((await self._conn.execute(stmt)).scalar())

    async def seen_device(
        self, user_id: UserId, user_agent: str | None, client_ip: str | None, since: datetime
    ) -> bool:
        stmt = select(
            exists().where(
                sessions.c.user_id == user_id,
                sessions.c.user_agent.is_not_distinct_from(user_agent),
                sessions.c.client_ip.is_not_distinct_from(client_ip),
                sessions.c.last_used_at >= since,
            )
        )
        return bool((await self._conn.execute(stmt)).scalar())
