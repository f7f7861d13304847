"""The passkey stores over the unit of work's connection (see ``repositories``).

``take`` and ``record_use`` are one conditional UPDATE each, as in ``mfa``: of concurrent
callers exactly one matches the row; ``add`` is an INSERT that skips a taken credential id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from neodyme_adapters.sqlalchemy import mapping
from neodyme_adapters.sqlalchemy.repositories import inserts_unless_taken
from neodyme_adapters.sqlalchemy.tables import passkeys, webauthn_challenges
from neodyme_domain.model import UserId
from neodyme_domain.passkeys.model import Passkey, WebAuthnChallenge

_INSERT_PASSKEY = inserts_unless_taken(passkeys, passkeys.c.credential_id, passkeys.c.id)


class SqlAlchemyPasskeyStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, passkey: Passkey) -> bool:
        stmt = _INSERT_PASSKEY[self._conn.dialect.name]
        return (await self._conn.execute(stmt, mapping.passkey_to_row(passkey))).first() is not None

    async def get(self, passkey_id: str) -> Passkey | None:
        return await self._one(passkeys.c.id == passkey_id)

    async def by_credential(self, credential_id: str) -> Passkey | None:
        return await self._one(passkeys.c.credential_id == credential_id)

    async def _one(self, condition: ColumnElement[bool]) -> Passkey | None:
        row = (await self._conn.execute(select(passkeys).where(condition))).first()
        return mapping.passkey_from_row(row) if row is not None else None

    async def list_for(self, user_id: UserId) -> list[Passkey]:
        stmt = (
            select(passkeys)
            .where(passkeys.c.user_id == user_id)
            .order_by(passkeys.c.created_at, passkeys.c.id)
        )
        return [mapping.passkey_from_row(row) for row in await self._conn.execute(stmt)]

    async def count_for(self, user_id: UserId) -> int:
        stmt = select(func.count()).where(passkeys.c.user_id == user_id)
        return int((await self._conn.execute(stmt)).scalar_one())

    async def rename(self, passkey_id: str, name: str) -> None:
        await self._conn.execute(
            update(passkeys).where(passkeys.c.id == passkey_id).values(name=name)
        )

    async def delete(self, passkey_id: str) -> bool:
        stmt = delete(passkeys).where(passkeys.c.id == passkey_id).returning(passkeys.c.id)
        return len((await self._conn.execute(stmt)).all()) == 1

    async def record_use(
        self, passkey_id: str, *, seen_count: int, sign_count: int, backed_up: bool, at: datetime
    ) -> bool:
        stmt = (
            update(passkeys)
            .where(passkeys.c.id == passkey_id, passkeys.c.sign_count == seen_count)
            .values(sign_count=sign_count, backed_up=backed_up, last_used_at=at)
            .returning(passkeys.c.id)
        )
        return len((await self._conn.execute(stmt)).all()) == 1


class SqlAlchemyWebAuthnChallengeStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, challenge: WebAuthnChallenge) -> None:
        row = mapping.webauthn_challenge_to_row(challenge)
        await self._conn.execute(insert(webauthn_challenges), row)

    async def take(self, challenge_digest: str, at: datetime) -> WebAuthnChallenge | None:
        stmt = (
            update(webauthn_challenges)
            .where(
                webauthn_challenges.c.challenge_digest == challenge_digest,
                webauthn_challenges.c.used_at.is_(None),
                webauthn_challenges.c.expires_at > at,
            )
            .values(used_at=at)
            .returning(*webauthn_challenges.c)
        )
        row = (await self._conn.execute(stmt)).first()
        return mapping.webauthn_challenge_from_row(row) if row is not None else None

    async def purge_expired(self, now: datetime) -> int:
        stmt = (
            delete(webauthn_challenges)
            .where(webauthn_challenges.c.expires_at <= now)
            .returning(webauthn_challenges.c.challenge_digest)
        )
        return len((await self._conn.execute(stmt)).all())
