"""The second factor's stores over the unit of work's connection (see ``repositories``).

The "exactly one wins" operations (``use_step``, ``use``, ``mark_used``) are one
conditional UPDATE each, as ``SqlAlchemyRefreshTokenStore.mark_used``: a concurrent caller
blocks on the row lock (PostgreSQL) or the write lock (SQLite), then re-checks the WHERE
clause against the committed row and matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from neodyme_adapters.sqlalchemy import mapping
from neodyme_adapters.sqlalchemy.repositories import upserts
from neodyme_adapters.sqlalchemy.tables import mfa_challenges, recovery_codes, totp_authenticators
from neodyme_domain.mfa.model import MfaChallenge, TotpAuthenticator
from neodyme_domain.model import UserId

_UPSERT_TOTP = upserts(totp_authenticators, totp_authenticators.c.user_id)


class SqlAlchemyTotpStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def get(self, user_id: UserId) -> TotpAuthenticator | None:
        stmt = select(totp_authenticators).where(totp_authenticators.c.user_id == user_id)
        row = (await self._conn.execute(stmt)).first()
        return mapping.totp_from_row(row) if row is not None else None

    async def put(self, authenticator: TotpAuthenticator) -> None:
        upsert = _UPSERT_TOTP[self._conn.dialect.name]
        await self._conn.execute(upsert, mapping.totp_to_row(authenticator))

    async def use_step(self, user_id: UserId, step: int) -> bool:
        last = totp_authenticators.c.last_used_step
        stmt = (
            update(totp_authenticators)
            .where(totp_authenticators.c.user_id == user_id, or_(last.is_(None), last < step))
            .values(last_used_step=step)
            .returning(totp_authenticators.c.user_id)
        )
        return len((await self._conn.execute(stmt)).all()) == 1

    async def delete(self, user_id: UserId) -> bool:
        stmt = (
            delete(totp_authenticators)
            .where(totp_authenticators.c.user_id == user_id)
            .returning(totp_authenticators.c.user_id)
        )
        return len((await self._conn.execute(stmt)).all()) == 1

    async def list_all(self) -> list[TotpAuthenticator]:
        stmt = select(totp_authenticators).order_by(totp_authenticators.c.user_id)
        return [mapping.totp_from_row(row) for row in await self._conn.execute(stmt)]


class SqlAlchemyRecoveryCodeStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def replace(self, user_id: UserId, digests: Sequence[str]) -> None:
        await self.delete_all(user_id)
        if digests:
            rows = [{"user_id": user_id, "code_digest": d} for d in digests]
            await self._conn.execute(insert(recovery_codes), rows)

    async def use(self, user_id: UserId, code_digest: str, at: datetime) -> bool:
        stmt = (
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_digest == code_digest,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=at)
            .returning(recovery_codes.c.code_digest)
        )
        return len((await self._conn.execute(stmt)).all()) == 1

    async def remaining(self, user_id: UserId) -> int:
        stmt = select(func.count()).where(
            recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
        )
        return int((await self._conn.execute(stmt)).scalar_one())

    async def delete_all(self, user_id: UserId) -> None:
        await self._conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))


class SqlAlchemyMfaChallengeStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, challenge: MfaChallenge) -> None:
        await self._conn.execute(insert(mfa_challenges), mapping.mfa_challenge_to_row(challenge))

    async def get(self, token_digest: str) -> MfaChallenge | None:
        stmt = select(mfa_challenges).where(mfa_challenges.c.token_digest == token_digest)
        row = (await self._conn.execute(stmt)).first()
        return mapping.mfa_challenge_from_row(row) if row is not None else None

    async def count_failure(self, token_digest: str) -> int:
        stmt = (
            update(mfa_challenges)
            .where(mfa_challenges.c.token_digest == token_digest)
            .values(failures=mfa_challenges.c.failures + 1)
            .returning(mfa_challenges.c.failures)
        )
        row = (await self._conn.execute(stmt)).first()
        return 0 if row is None else int(row.failures)

    async def mark_used(self, token_digest: str, at: datetime) -> bool:
        stmt = (
            update(mfa_challenges)
            .where(
                mfa_challenges.c.token_digest == token_digest, mfa_challenges.c.used_at.is_(None)
            )
            .values(used_at=at)
            .returning(mfa_challenges.c.token_digest)
        )
        return len((await self._conn.execute(stmt)).all()) == 1

    async def purge_expired(self, now: datetime) -> int:
        stmt = (
            delete(mfa_challenges)
            .where(mfa_challenges.c.expires_at <= now)
            .returning(mfa_challenges.c.token_digest)
        )
        return len((await self._conn.execute(stmt)).all())
