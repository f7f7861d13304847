"""The federation stores over the unit of work's connection (see ``repositories``).

``add`` of a link is an INSERT that skips a taken (provider, subject); ``take`` of a
request is one DELETE ... RETURNING: of concurrent callers exactly one gets the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from neodyme_adapters.sqlalchemy import mapping
from neodyme_adapters.sqlalchemy.repositories import inserts_unless_taken
from neodyme_adapters.sqlalchemy.tables import federation_requests, linked_identities
from neodyme_domain.federation.model import FederationRequest, LinkedIdentity
from neodyme_domain.model import UserId

_INSERT_IDENTITY = inserts_unless_taken(
    linked_identities,
    (linked_identities.c.provider, linked_identities.c.subject),
    linked_identities.c.id,
)


class SqlAlchemyLinkedIdentityStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, identity: LinkedIdentity) -> bool:
        stmt = _INSERT_IDENTITY[self._conn.dialect.name]
        row = mapping.linked_identity_to_row(identity)
        return (await self._conn.execute(stmt, row)).first() is not None

    async def by_subject(self, provider: str, subject: str) -> LinkedIdentity | None:
        stmt = select(linked_identities).where(
            linked_identities.c.provider == provider, linked_identities.c.subject == subject
        )
        row = (await self._conn.execute(stmt)).first()
        return mapping.linked_identity_from_row(row) if row is not None else None

    async def for_user(self, user_id: UserId) -> list[LinkedIdentity]:
        stmt = (
            select(linked_identities)
            .where(linked_identities.c.user_id == user_id)
            .order_by(linked_identities.c.created_at, linked_identities.c.id)
        )
        return [mapping.linked_identity_from_row(row) for row in await self._conn.execute(stmt)]

    async def delete(self, identity_id: UserId) -> bool:
        stmt = (
            delete(linked_identities)
            .where(linked_identities.c.id == identity_id)
            .returning(linked_identities.c.id)
        )
        return len((await self._conn.execute(stmt)).all()) == 1


class SqlAlchemyFederationRequestStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, request: FederationRequest) -> None:
        row = mapping.federation_request_to_row(request)
        await self._conn.execute(insert(federation_requests), row)

    async def take(self, digest: str, at: datetime) -> FederationRequest | None:
        stmt = (
            delete(federation_requests)
            .where(federation_requests.c.digest == digest)
            .returning(*federation_requests.c)
        )
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        request = mapping.federation_request_from_row(row)
        return request if request.expires_at > at else None

    async def purge_expired(self, now: datetime) -> int:
        stmt = (
            delete(federation_requests)
            .where(federation_requests.c.expires_at <= now)
            .returning(federation_requests.c.digest)
        )
        return len((await self._conn.execute(stmt)).all())
