"""The signing-key store over the unit of work's connection (see ``repositories``):
``add`` is an INSERT that skips a taken generation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from neodyme_adapters.sqlalchemy.mapping import utc
from neodyme_adapters.sqlalchemy.repositories import inserts_unless_taken
from neodyme_adapters.sqlalchemy.tables import signing_keys
from neodyme_domain.tokens.signing_keys import SigningAlgorithm, SigningKey

_INSERT_KEY = inserts_unless_taken(signing_keys, signing_keys.c.generation, signing_keys.c.kid)


class SqlAlchemySigningKeyStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, key: SigningKey) -> bool:
        row = {
            "generation": key.generation,
            "kid": key.kid,
            "algorithm": key.algorithm.value,
            "public_jwk": key.public_jwk,
            "sealed_private_key": key.sealed_private_key,
            "created_at": key.created_at,
            "active_from": key.active_from,
        }
        stmt = _INSERT_KEY[self._conn.dialect.name]
        return (await self._conn.execute(stmt, row)).first() is not None

    async def all(self) -> list[SigningKey]:
        stmt = select(signing_keys).order_by(signing_keys.c.generation)
        return [_key(row) for row in await self._conn.execute(stmt)]

    async def reseal(self, kid: str, sealed_private_key: str) -> None:
        stmt = update(signing_keys).where(signing_keys.c.kid == kid)
        await self._conn.execute(stmt.values(sealed_private_key=sealed_private_key))

    async def delete(self, kids: Sequence[str]) -> None:
        if kids:
            await self._conn.execute(delete(signing_keys).where(signing_keys.c.kid.in_(kids)))


def _key(row: Any) -> SigningKey:
    return SigningKey(
        kid=row.kid,
        generation=row.generation,
        algorithm=SigningAlgorithm(row.algorithm),
        public_jwk=row.public_jwk,
        sealed_private_key=row.sealed_private_key,
        created_at=utc(row.created_at),
        active_from=utc(row.active_from),
    )
