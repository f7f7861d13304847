"""The stateful ports over the ``AsyncConnection`` that the unit of work owns.

The repositories never commit, roll back or close the connection: the transaction is the
unit of work's.

Keyset pages compare (timestamp, id) row values, which must order exactly as the domain's
``Position`` (and so the in-memory adapter) does: by instant, then by ``uuid.UUID``, which
orders by the 128-bit integer. Both databases agree with it: PostgreSQL compares ``uuid``
bytewise (big-endian, so by the integer), and SQLAlchemy's ``Uuid`` stores SQLite values as
32 lower-case hex digits, whose text order is the integer order. Timestamps are UTC on
both (``UtcDateTime``; SQLite's fixed-width text compares as the instant).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Update

from neodyme_adapters.sqlalchemy import mapping
from neodyme_adapters.sqlalchemy.tables import (
    email_outbox,
    login_throttle,
    one_time_tokens,
    refresh_tokens,
    security_events,
    users,
)
from neodyme_domain.errors import EmailAlreadyExists
from neodyme_domain.messages import EmailMessage, OutboxBacklog, OutboxEntry, SecurityEvent
from neodyme_domain.model import Email, User, UserId, new_id
from neodyme_domain.pagination import Position
from neodyme_domain.throttling import ThrottleState
from neodyme_domain.tokens.model import OneTimeTokenRecord, RefreshTokenRecord

# The statements of the hot paths (every login, registration, welcome e-mail and
# authenticated request), built once with bound parameters. Building a statement per call
# (select(...).where(...), insert(...).values(row)) cost more CPU than running it: 262 ->
# 174 us per primary-key SELECT through the async engine against a local PostgreSQL, and
# more for INSERTs with a dict of values. SQLAlchemy caches the compiled form either way;
# what is saved is the construction, its coercions and its cache key.
_USER_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
_USER_BY_EMAIL_KEY = select(users).where(users.c.email_key == bindparam("email_key"))
_ON_CONFLICT_DIALECTS: dict[str, Any] = {"postgresql": postgresql, "sqlite": sqlite}
"""By dialect name, the modules whose INSERT has ON CONFLICT clauses (both databases)."""


def inserts_unless_taken(
    table: Table, key: Column[Any] | tuple[Column[Any], ...], returned: Column[Any]
) -> dict[str, Any]:
    """By dialect name: INSERT ... ON CONFLICT (``key``, one column or a unique pair) DO
    NOTHING RETURNING ``returned``: no row back means the key was taken, and the
    transaction goes on unharmed (an IntegrityError would have aborted it on PostgreSQL)."""
    keys = list(key) if isinstance(key, tuple) else [key]
    return {
        name: dialect.insert(table).on_conflict_do_nothing(index_elements=keys).returning(returned)
        for name, dialect in _ON_CONFLICT_DIALECTS.items()
    }


_INSERT_USER = inserts_unless_taken(users, users.c.email_key, users.c.id)
_INSERT_REFRESH_TOKEN = insert(refresh_tokens)
_REFRESH_TOKEN_BY_DIGEST = select(refresh_tokens).where(
    refresh_tokens.c.token_digest == bindparam("token_digest")
)
_MARK_REFRESH_TOKEN_USED = (
    update(refresh_tokens)
    .where(
        refresh_tokens.c.token_digest == bindparam("digest"),
        refresh_tokens.c.used_at.is_(None),
        refresh_tokens.c.revoked_at.is_(None),
    )
    .values(used_at=bindparam("at"))
    .returning(refresh_tokens.c.token_digest)
)
_INSERT_OUTBOX_ENTRY = insert(email_outbox)
_MARK_OUTBOX_ENTRY_SENT = (
    update(email_outbox)
    .where(email_outbox.c.id == bindparam("entry_id"))
    .values(sent_at=bindparam("at"), last_error=None)
)
_PENDING = email_outbox.c.dead_at.is_(None)
_OUTBOX_BACKLOG = select(
    func.count(case((_PENDING, 1))).label("pending"),
    func.sum(case((and_(_PENDING, email_outbox.c.attempts > 0), 1), else_=0)).label("failing"),
    func.sum(case((_PENDING, 0), else_=1)).label("dead"),
    func.min(case((_PENDING, email_outbox.c.created_at))).label("oldest_pending_at"),
).where(email_outbox.c.sent_at.is_(None))
"""One pass over the unsent rows (through the index that leads with ``sent_at``): the sent
history, which grows with every e-mail, is never read."""
_INSERT_SECURITY_EVENT = insert(security_events)
_ANY_THROTTLE_STATE = (
    select(login_throttle.c.key).where(login_throttle.c.key.in_(bindparam("keys"))).limit(1)
)


def upserts(table: Table, key: Column[Any]) -> dict[str, Any]:
    """By dialect name: INSERT ... ON CONFLICT (``key``) DO UPDATE of every other column
    of ``table``, for a row that replaces whatever was stored under its key."""

    def upsert(dialect: Any) -> Any:
        statement = dialect.insert(table)
        others = {c.name: statement.excluded[c.name] for c in table.c if c.name != key.name}
        return statement.on_conflict_do_update(index_elements=[key], set_=others)

    return {name: upsert(dialect) for name, dialect in _ON_CONFLICT_DIALECTS.items()}


_UPSERT_THROTTLE_STATE = upserts(login_throttle, login_throttle.c.key)
_DELETE_THROTTLE_STATE = delete(login_throttle).where(
    login_throttle.c.key == bindparam("throttle_key")
)

THROTTLE_LOCK_NAMESPACE = 0x6E656F74  # "neot": the first key of the two-key advisory locks
REVOCATION_LOCK_NAMESPACE = 0x6E656F72  # "neor"


def _is_email_conflict(error: IntegrityError) -> bool:
    # PostgreSQL names the index ("ux_users_email_key"); SQLite names the column
    # ("UNIQUE constraint failed: users.email_key").
    return "email_key" in str(error.orig)


class SqlAlchemyUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, user: User) -> None:
        # ON CONFLICT DO NOTHING instead of a SAVEPOINT around a plain INSERT (see
        # ``_write``): a taken address leaves the transaction usable in one round trip
        # instead of three, on the path of every registration.
        stmt = _INSERT_USER[self._conn.dialect.name]
        if (await self._conn.execute(stmt, mapping.user_to_row(user))).first() is None:
            raise EmailAlreadyExists(user.email.value)

    async def get(self, user_id: UserId) -> User | None:
        row = (await self._conn.execute(_USER_BY_ID, {"user_id": user_id})).first()
        return mapping.user_from_row(row) if row is not None else None

    async def get_by_email(self, email: Email) -> User | None:
        row = (await self._conn.execute(_USER_BY_EMAIL_KEY, {"email_key": email.key})).first()
        return mapping.user_from_row(row) if row is not None else None

    async def update(self, user: User) -> None:
        values = mapping.user_to_row(user)
        del values["id"]
        await self._write(update(users).where(users.c.id == user.id).values(values), user.email)

    async def delete(self, user_id: UserId) -> None:
        # The user's refresh and one-time tokens go with it (ON DELETE CASCADE); events stay.
        await self._conn.execute(delete(users).where(users.c.id == user_id))

    async def list_after(self, after: Position | None, limit: int) -> list[User]:
        if limit <= 0:
            return []
        stmt = select(users).order_by(users.c.created_at, users.c.id).limit(limit)
        if after is not None:
            # A row-value comparison (one range scan of ix_users_created_at_id), against a
            # plain tuple so the values are bound with the columns' types: a tuple_() of
            # values would bind a generic DateTime that skips UtcDateTime's normalisation.
            stmt = stmt.where(tuple_(users.c.created_at, users.c.id) > (after.at, after.id))
        return [mapping.user_from_row(row) for row in await self._conn.execute(stmt)]

    async def _write(self, statement: Update, email: Email) -> None:
        # The SAVEPOINT confines a unique violation to this statement: PostgreSQL would
        # otherwise abort the whole transaction, and the caller may want to go on (or at
        # least commit other work) after handling EmailAlreadyExists.
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(statement)
        except IntegrityError as error:
            if not _is_email_conflict(error):
                raise
            raise EmailAlreadyExists(email.value) from error


class SqlAlchemyRefreshTokenStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, record: RefreshTokenRecord) -> None:
        await self._conn.execute(_INSERT_REFRESH_TOKEN, mapping.refresh_token_to_row(record))

    async def get(self, token_digest: str) -> RefreshTokenRecord | None:
        stmt, values = _REFRESH_TOKEN_BY_DIGEST, {"token_digest": token_digest}
        row = (await self._conn.execute(stmt, values)).first()
        return mapping.refresh_token_from_row(row) if row is not None else None

    async def mark_used(self, token_digest: str, at: datetime) -> bool:
        # One conditional UPDATE: on PostgreSQL a concurrent caller blocks on the row lock,
        # then re-checks the WHERE clause against the committed row and matches nothing;
        # on SQLite writers are serialised. Either way exactly one caller sees a row.
        values = {"digest": token_digest, "at": at}
        return len((await self._conn.execute(_MARK_REFRESH_TOKEN_USED, values)).all()) == 1

    async def revoke_family(self, family_id: str, at: datetime) -> None:
        await self._revoke(refresh_tokens.c.family_id == family_id, f"family:{family_id}", at)

    async def revoke_all_for_user(self, user_id: UserId, at: datetime) -> None:
        await self._revoke(refresh_tokens.c.user_id == user_id, f"user:{user_id}", at)

    async def _revoke(self, selected: ColumnElement[bool], scope: str, at: datetime) -> None:
        # Revocations of one scope (parallel reuse of a token: one per losing request) run
        # one after the other, under a transaction-scoped advisory lock on PostgreSQL, and
        # lock the rows in one order (by digest) before updating them. Without the first,
        # the UPDATE (a newer snapshot than the SELECT's) could lock a token issued
        # meanwhile that another revocation had locked already; without the second, rows
        # are locked in scan order. Either way: a deadlock. SQLite serialises writers.
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(
                select(func.pg_advisory_xact_lock(REVOCATION_LOCK_NAMESPACE, func.hashtext(scope)))
            )
        live = refresh_tokens.c.revoked_at.is_(None)
        await self._conn.execute(
            select(refresh_tokens.c.token_digest)
            .where(selected, live)
            .order_by(refresh_tokens.c.token_digest)
            .with_for_update()
        )
        await self._conn.execute(update(refresh_tokens).where(selected, live).values(revoked_at=at))


class SqlAlchemyOneTimeTokenStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, record: OneTimeTokenRecord) -> None:
        await self._conn.execute(
            insert(one_time_tokens).values(mapping.one_time_token_to_row(record))
        )

    async def get(self, token_digest: str) -> OneTimeTokenRecord | None:
        stmt = select(one_time_tokens).where(one_time_tokens.c.token_digest == token_digest)
        row = (await self._conn.execute(stmt)).first()
        return mapping.one_time_token_from_row(row) if row is not None else None

    async def mark_used(self, token_digest: str, at: datetime) -> bool:
        # One conditional UPDATE, as SqlAlchemyRefreshTokenStore.mark_used: of concurrent
        # callers exactly one sees a row.
        stmt = (
            update(one_time_tokens)
            .where(
                one_time_tokens.c.token_digest == token_digest,
                one_time_tokens.c.used_at.is_(None),
            )
            .values(used_at=at)
            .returning(one_time_tokens.c.token_digest)
        )
        return len((await self._conn.execute(stmt)).all()) == 1


class SqlAlchemyOutbox:
    """``on_add`` is called after each ``add`` (the unit of work uses it to know that a
    commit should wake the e-mail dispatcher)."""

    def __init__(
        self, connection: AsyncConnection, on_add: Callable[[], None] | None = None
    ) -> None:
        self._conn = connection
        self._on_add = on_add

    async def add(self, message: EmailMessage, at: datetime) -> None:
        entry = OutboxEntry(id=new_id(), message=message, created_at=at, next_attempt_at=at)
        await self._conn.execute(_INSERT_OUTBOX_ENTRY, mapping.outbox_entry_to_row(entry))
        if self._on_add is not None:
            self._on_add()

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxEntry]:
        if limit <= 0:
            return []
        due = (
            select(email_outbox)
            .where(
                email_outbox.c.sent_at.is_(None),
                email_outbox.c.dead_at.is_(None),
                or_(
                    email_outbox.c.next_attempt_at.is_(None), email_outbox.c.next_attempt_at <= now
                ),
            )
            .order_by(email_outbox.c.created_at, email_outbox.c.id)
            .limit(limit)
            # PostgreSQL: rows another dispatcher is claiming right now are skipped, not
            # waited for. SQLite ignores the clause; its write lock serialises claims.
            .with_for_update(skip_locked=True)
        )
        entries = [mapping.outbox_entry_from_row(row) for row in await self._conn.execute(due)]
        if entries:
            await self._conn.execute(
                update(email_outbox)
                .where(email_outbox.c.id.in_([entry.id for entry in entries]))
                .values(next_attempt_at=now + lease)
            )
        return entries

    async def mark_sent(self, entry_id: uuid.UUID, at: datetime) -> None:
        await self._conn.execute(_MARK_OUTBOX_ENTRY_SENT, {"entry_id": entry_id, "at": at})

    async def mark_failed(self, entry_id: uuid.UUID, error: str, retry_at: datetime) -> None:
        await self._conn.execute(
            update(email_outbox)
            .where(email_outbox.c.id == entry_id)
            .values(
                attempts=email_outbox.c.attempts + 1,
                last_error=error,
                next_attempt_at=retry_at,
            )
        )

    async def mark_dead(self, entry_id: uuid.UUID, error: str, at: datetime) -> None:
        await self._conn.execute(
            update(email_outbox)
            .where(email_outbox.c.id == entry_id)
            .values(attempts=email_outbox.c.attempts + 1, last_error=error, dead_at=at)
        )

    async def backlog(self) -> OutboxBacklog:
        row = (await self._conn.execute(_OUTBOX_BACKLOG)).one()
        return OutboxBacklog(
            pending=row.pending,
            failing=row.failing or 0,  # SUM over no rows is NULL
            dead=row.dead or 0,
            oldest_pending_at=mapping.utc_or_none(row.oldest_pending_at),
        )

    async def requeue(self, now: datetime, *, include_dead: bool) -> int:
        failing = and_(email_outbox.c.dead_at.is_(None), email_outbox.c.attempts > 0)
        requeued = len(
            (
                await self._conn.execute(
                    update(email_outbox)
                    .where(email_outbox.c.sent_at.is_(None), failing)
                    .values(next_attempt_at=now)
                    .returning(email_outbox.c.id)
                )
            ).all()
        )
        if include_dead:
            requeued += len(
                (
                    await self._conn.execute(
                        update(email_outbox)
                        .where(
                            email_outbox.c.sent_at.is_(None), email_outbox.c.dead_at.is_not(None)
                        )
                        .values(dead_at=None, attempts=0, next_attempt_at=now)
                        .returning(email_outbox.c.id)
                    )
                ).all()
            )
        return requeued


class SqlAlchemyEventRecorder:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def record(self, event: SecurityEvent) -> None:
        await self._conn.execute(_INSERT_SECURITY_EVENT, mapping.security_event_to_row(event))

    async def list_for_user(
        self, user_id: UserId, before: Position | None, limit: int
    ) -> list[SecurityEvent]:
        if limit <= 0:
            return []
        position = tuple_(security_events.c.occurred_at, security_events.c.id)
        stmt = (
            select(security_events)
            .where(security_events.c.user_id == user_id)
            .order_by(security_events.c.occurred_at.desc(), security_events.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(position < (before.at, before.id))  # see list_after
        return [mapping.security_event_from_row(row) for row in await self._conn.execute(stmt)]


class SqlAlchemyLoginThrottle:
    """Throttle states, one row per key.

    ``get`` must serialise concurrent read-modify-writes of one key, including its very
    first one, when there is no row yet for ``SELECT ... FOR UPDATE`` to lock. On
    PostgreSQL a transaction-scoped advisory lock on the key's hash does that (taken
    before the SELECT, whose READ COMMITTED snapshot then sees what the previous holder
    committed); the row lock also makes ``delete`` and ``purge_expired`` wait for a
    holder. On SQLite every transaction already holds the write lock (BEGIN IMMEDIATE).
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def get(self, key: str) -> ThrottleState | None:
        stmt = select(login_throttle).where(login_throttle.c.key == key)
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(
                select(func.pg_advisory_xact_lock(THROTTLE_LOCK_NAMESPACE, func.hashtext(key)))
            )
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).first()
        return mapping.throttle_state_from_row(row) if row is not None else None

    async def any_recorded(self, keys: Sequence[str]) -> bool:
        result = await self._conn.execute(_ANY_THROTTLE_STATE, {"keys": list(keys)})
        return result.first() is not None

    async def put(self, state: ThrottleState) -> None:
        upsert = _UPSERT_THROTTLE_STATE[self._conn.dialect.name]
        await self._conn.execute(upsert, mapping.throttle_state_to_row(state))

    async def delete(self, key: str) -> None:
        await self._conn.execute(_DELETE_THROTTLE_STATE, {"throttle_key": key})

    async def purge_expired(self, now: datetime) -> int:
        stmt = (
            delete(login_throttle)
            .where(login_throttle.c.expires_at <= now)
            .returning(login_throttle.c.key)
        )
        return len((await self._conn.execute(stmt)).all())
