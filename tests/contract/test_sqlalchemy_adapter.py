"""What only the SQLAlchemy adapters promise: migrations that build exactly the tables,
engines that survive concurrent writers, connectivity failures reported as
ServiceUnavailable, the after-commit wake-up, and the database-level rules (cascade)."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from neodyme_adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    downgrade,
    make_engine,
    metadata,
    ping,
    to_async_url,
    upgrade,
)
from neodyme_adapters.sqlalchemy.mapping import (
    outbox_entry_to_row,
    refresh_token_to_row,
    session_from_row,
    user_to_row,
)
from neodyme_adapters.sqlalchemy.tables import (
    email_outbox,
    passkeys,
    refresh_tokens,
    sessions,
    users,
)
from neodyme_domain.errors import EmailAlreadyExists, ServiceUnavailable
from neodyme_domain.messages import OutboxEntry
from neodyme_domain.sessions.model import Session
from tests.contract.conftest import run_scoped_name, sql_engine
from tests.support.builders import a_message, a_refresh_token, a_user, utc_now
from tests.support.postgres import drop_database, resolve_postgres_url, scratch_database
from tests.support.tcp_proxy import postgres_proxy, proxied_url

# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def sql_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of this test's own."""
    if request.param == "sqlite":
        path = tmp_path / "neodyme.db"
        path.write_bytes(sqlite_template.read_bytes())
        yield f"sqlite+aiosqlite:///{path}"
        return
    yield request.getfixturevalue("postgres_contract_url")


@pytest.fixture
async def engine(sql_url: str) -> AsyncIterator[AsyncEngine]:
    async with sql_engine(sql_url) as engine:
        yield engine


@pytest.fixture
def migration_scratch_url(worker_id: str) -> Iterator[str]:
    """An empty (unmigrated) PostgreSQL database, dropped after the test."""
    base_url = resolve_postgres_url()
    name = run_scoped_name("neodyme_migrations", worker_id)
    yield scratch_database(base_url, name)
    drop_database(base_url, name)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def _sync_url(url: str) -> URL:
    """The URL for a synchronous engine: psycopg works both ways, aiosqlite does not."""
    sync_url = to_async_url(url)
    if sync_url.get_backend_name() == "sqlite":
        sync_url = sync_url.set(drivername="sqlite")
    return sync_url


def schema_differences(url: str) -> list[object]:
    engine = create_engine(_sync_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


# --- migrations ---------------------------------------------------------------------------


def test_migrated_sqlite_schema_is_exactly_the_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/dirs/neodyme.db"  # the directory is created too

    upgrade(url)

    assert schema_differences(url) == []


def test_migrated_postgres_schema_is_exactly_the_tables(migration_scratch_url: str) -> None:
    upgrade(migration_scratch_url)

    assert schema_differences(migration_scratch_url) == []


def test_upgrade_twice_is_harmless_and_downgrade_empties_the_database(
    migration_scratch_url: str, tmp_path: Path
) -> None:
    for url in (migration_scratch_url, f"sqlite:///{tmp_path}/neodyme.db"):
        upgrade(url)
        upgrade(url)
        downgrade(url, "base")
        engine = create_engine(_sync_url(url))
        try:
            with engine.connect() as connection:
                assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        finally:
            engine.dispose()
        upgrade(url)
        assert schema_differences(url) == []


def test_0002_keeps_existing_rows_both_ways(migration_scratch_url: str, tmp_path: Path) -> None:
    # Lightweight tables of revision 0001's columns: the current ones have more.
    users_0001 = sa.table(
        "users",
        *(sa.column(name) for name in ("email", "email_key", "full_name", "hashed_password")),
        *(sa.column(name) for name in ("is_active", "is_verified", "is_superuser")),
        sa.column("id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    tokens_0001 = sa.table(
        "refresh_tokens",
        sa.column("token_digest"),
        sa.column("family_id"),
        sa.column("user_id", sa.Uuid()),
        sa.column("issued_at", sa.DateTime(timezone=True)),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    user = a_user()
    token = a_refresh_token(user.id)
    for url in (migration_scratch_url, f"sqlite:///{tmp_path}/neodyme.db"):
        upgrade(url, "0001")
        engine = create_engine(_sync_url(url))
        try:
            with engine.begin() as connection:
                row = user_to_row(user)
                del row["token_version"], row["mfa_enabled"]
                connection.execute(users_0001.insert().values(row))
                connection.execute(
                    tokens_0001.insert().values(
                        token_digest=token.token_digest,
                        family_id=token.family_id,
                        user_id=user.id,
                        issued_at=token.issued_at,
                        expires_at=token.expires_at,
                    )
                )

            upgrade(url)
            with engine.connect() as connection:
                assert connection.execute(sa.text("SELECT token_version FROM users")).all() == [
                    (0,)
                ]

            # On SQLite a "move and copy" of users would DROP it, and the foreign keys'
            # ON DELETE CASCADE would take the refresh tokens with it.
            downgrade(url, "0001")
            with engine.connect() as connection:
                assert connection.execute(sa.select(users_0001.c.id)).all() == [(user.id,)]
                assert connection.execute(sa.select(tokens_0001.c.token_digest)).all() == [
                    (token.token_digest,)
                ]
                columns = {column["name"] for column in inspect(connection).get_columns("users")}
                assert "token_version" not in columns
                assert "one_time_tokens" not in inspect(connection).get_table_names()

            upgrade(url)
            assert schema_differences(url) == []
        finally:
            engine.dispose()


def test_0004_keeps_a_piled_up_outbox_pending_both_ways(
    migration_scratch_url: str, tmp_path: Path
) -> None:
    """An outbox that piled up before dead letters existed is still retried after the
    upgrade (nothing becomes dead by itself), and survives a downgrade."""
    now = utc_now()
    entry = OutboxEntry(uuid.uuid4(), a_message(), now, attempts=181, next_attempt_at=now)
    row = outbox_entry_to_row(entry)
    del row["dead_at"]  # revision 0003 has no such column
    outbox_0003 = sa.table(
        "email_outbox", *(sa.column(c.name, c.type) for c in email_outbox.c if c.name in row)
    )
    for url in (migration_scratch_url, f"sqlite:///{tmp_path}/neodyme.db"):
        upgrade(url, "0003")
        engine = create_engine(_sync_url(url))
        try:
            with engine.begin() as connection:
                connection.execute(outbox_0003.insert().values(row))

            upgrade(url)
            with engine.connect() as connection:
                selected = sa.text("SELECT attempts, dead_at FROM email_outbox")
                assert connection.execute(selected).all() == [(181, None)]

            downgrade(url, "0003")
            with engine.connect() as connection:
                assert connection.execute(sa.select(outbox_0003.c.id)).all() == [(row["id"],)]
                columns = {c["name"] for c in inspect(connection).get_columns("email_outbox")}
                assert "dead_at" not in columns

            upgrade(url)
            assert schema_differences(url) == []
        finally:
            engine.dispose()


def test_0005_makes_each_refresh_family_a_session_both_ways(
    migration_scratch_url: str, tmp_path: Path
) -> None:
    """A client signed in before sessions existed keeps refreshing: its family is a live
    session after the upgrade; a family whose tokens are all revoked is an ended one."""
    user = a_user()
    live = a_refresh_token(user.id)
    rotated = replace(live, token_digest="b" * 64, issued_at=live.issued_at + timedelta(hours=1))
    dead = replace(live, token_digest="c" * 64, family_id="dead-family")
    revoked_at = dead.issued_at + timedelta(minutes=5)
    user_row = user_to_row(user)
    del user_row["mfa_enabled"]
    users_0004 = sa.table(
        "users", *(sa.column(c.name, c.type) for c in users.c if c.name in user_row)
    )
    token_rows = [
        refresh_token_to_row(live),
        refresh_token_to_row(replace(rotated, used_at=None)),
        refresh_token_to_row(replace(dead, revoked_at=revoked_at)),
    ]
    tokens_0004 = sa.table("refresh_tokens", *(sa.column(c.name, c.type) for c in refresh_tokens.c))
    for url in (migration_scratch_url, f"sqlite:///{tmp_path}/neodyme.db"):
        upgrade(url, "0004")
        engine = create_engine(_sync_url(url))
        try:
            with engine.begin() as connection:
                connection.execute(users_0004.insert().values(user_row))
                connection.execute(tokens_0004.insert(), token_rows)

            upgrade(url)
            with engine.connect() as connection:
                found = {
                    row.id: session_from_row(row) for row in connection.execute(sa.select(sessions))
                }
                flags = connection.execute(sa.select(users.c.mfa_enabled)).all()
            assert flags == [(False,)]
            assert found == {
                live.family_id: Session(
                    id=live.family_id,
                    user_id=user.id,
                    created_at=live.issued_at,
                    last_used_at=rotated.issued_at,
                    expires_at=live.expires_at,
                ),
                "dead-family": Session(
                    id="dead-family",
                    user_id=user.id,
                    created_at=dead.issued_at,
                    last_used_at=dead.issued_at,
                    expires_at=dead.expires_at,
                    ended_at=revoked_at,
                ),
            }

            downgrade(url, "0004")
            with engine.connect() as connection:
                assert "sessions" not in inspect(connection).get_table_names()
                assert len(connection.execute(sa.select(tokens_0004.c.token_digest)).all()) == 3

            upgrade(url)
            assert schema_differences(url) == []
        finally:
            engine.dispose()


def test_0006_adds_the_passkey_tables_and_takes_them_back_keeping_the_accounts(
    migration_scratch_url: str, tmp_path: Path
) -> None:
    user = a_user()
    passkey_row = {
        "id": str(uuid.uuid4()),
        "user_id": user.id,
        "credential_id": "credential",
        "public_key": b"cose",
        "sign_count": 3,
        "name": "Laptop",
        "transports": "internal",
        "aaguid": str(uuid.uuid4()),
        "backup_eligible": False,
        "backed_up": False,
        "created_at": utc_now(),
        "last_used_at": None,
    }
    for url in (migration_scratch_url, f"sqlite:///{tmp_path}/neodyme.db"):
        upgrade(url, "0005")
        engine = create_engine(_sync_url(url))
        try:
            with engine.begin() as connection:
                connection.execute(users.insert().values(user_to_row(user)))
            upgrade(url)
            with engine.begin() as connection:
                connection.execute(passkeys.insert().values(passkey_row))

            downgrade(url, "0005")
            with engine.connect() as connection:
                tables = inspect(connection).get_table_names()
                assert "passkeys" not in tables
                assert "webauthn_challenges" not in tables
                assert connection.execute(sa.select(users.c.id)).scalars().all() == [user.id]

            upgrade(url)
            assert schema_differences(url) == []
        finally:
            engine.dispose()


async def test_upgrade_refuses_to_run_inside_an_event_loop(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="to_thread"):
        upgrade(f"sqlite:///{tmp_path}/neodyme.db")


# --- engines and URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/neodyme", "postgresql+psycopg://u:p@db:5432/neodyme"),
        ("postgres://u@db/neodyme", "postgresql+psycopg://u@db/neodyme"),
        ("postgresql+psycopg://u@db/neodyme", "postgresql+psycopg://u@db/neodyme"),
        ("sqlite:///var/neodyme.db", "sqlite+aiosqlite:///var/neodyme.db"),
        ("sqlite+aiosqlite:////abs/neodyme.db", "sqlite+aiosqlite:////abs/neodyme.db"),
    ],
)
def test_urls_are_given_the_async_driver(given: str, expected: str) -> None:
    assert to_async_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "mysql://u@db/neodyme",
        "postgresql+asyncpg://u@db/neodyme",
    ],
)
def test_unsupported_urls_are_refused_with_a_clear_error(url: str) -> None:
    with pytest.raises(ValueError, match="use"):
        make_engine(url)


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/neodyme.db")
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
    finally:
        await engine.dispose()


async def test_ping_answers_when_the_database_is_up(engine: AsyncEngine) -> None:
    await ping(engine)


async def test_ping_of_an_unreachable_database_raises_service_unavailable() -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none")
    try:
        with pytest.raises(ServiceUnavailable):
            await ping(engine)
    finally:
        await engine.dispose()


# --- unit of work ---------------------------------------------------------------------------


async def test_an_unreachable_database_raises_service_unavailable_with_the_cause() -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none")
    uow = SqlAlchemyUnitOfWork(engine)
    try:
        with pytest.raises(ServiceUnavailable) as raised:
            async with uow:
                await uow.users.get(a_user().id)
    finally:
        await engine.dispose()

    assert isinstance(raised.value.__cause__, OperationalError)


async def test_a_silent_postgres_is_service_unavailable_within_the_connect_timeout(
    postgres_contract_url: str,
) -> None:
    """A network partition: the pooled connection's pre-ping gets no answer and no error.
    Entering the unit of work gives up at ``connect_timeout`` (not when psycopg, after its
    own ten seconds of trying to cancel the ping, fails), and the pool recovers with the
    network."""
    with postgres_proxy(postgres_contract_url) as proxy:
        engine = make_engine(proxied_url(proxy, postgres_contract_url))
        uow = SqlAlchemyUnitOfWork(engine, connect_timeout=0.5)
        try:
            async with uow:  # one pooled connection, alive
                await uow.users.get(a_user().id)
            proxy.cut(silently=True)

            # Given up by the deadline itself (a TimeoutError of ``within``), not by
            # psycopg failing in its own time: which one ended the wait is in the cause.
            with pytest.raises(ServiceUnavailable) as entering:
                async with uow:
                    await uow.users.get(a_user().id)
            with pytest.raises(ServiceUnavailable) as pinging:
                await ping(engine, within_seconds=0.5)
            for raised in (entering, pinging):
                assert raised.value.context == {"cause": "timeout"}
                assert type(raised.value.__cause__) is TimeoutError

            proxy.restore()
            async with uow:
                assert await uow.users.get(a_user().id) is None
            for _ in range(200):  # the abandoned checkouts unwind once the network is back
                if engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.05)
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        finally:
            await engine.dispose()


async def test_a_postgres_connection_killed_mid_transaction_raises_service_unavailable(
    postgres_contract_url: str,
) -> None:
    engine = make_engine(postgres_contract_url)
    uow = SqlAlchemyUnitOfWork(engine)

    async def kill_own_connection() -> None:
        async with engine.connect() as killer:
            await killer.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state LIKE 'idle in transaction%'"
                )
            )
            await killer.commit()

    async def register_two() -> None:
        async with uow:
            await uow.users.add(a_user())
            await kill_own_connection()
            await uow.users.add(a_user("grace@example.com"))
            await uow.commit()

    try:
        with pytest.raises(ServiceUnavailable) as raised:
            await register_two()
    finally:
        await engine.dispose()

    assert isinstance(raised.value.__cause__, DBAPIError)


async def test_domain_errors_leave_the_unit_of_work_untranslated(engine: AsyncEngine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    first = a_user()
    async with uow:
        await uow.users.add(first)
        await uow.commit()

    async def register_again() -> None:
        async with uow:
            await uow.users.add(a_user(first.email.value))
            await uow.commit()

    with pytest.raises(EmailAlreadyExists):
        await register_again()


async def test_after_commit_is_called_only_for_transactions_that_queued_an_email(
    engine: AsyncEngine,
) -> None:
    wakes: list[datetime] = []
    uow = SqlAlchemyUnitOfWork(engine, after_commit=lambda: wakes.append(utc_now()))

    async with uow:
        await uow.users.add(a_user())
        await uow.commit()
    assert wakes == []

    async with uow:
        await uow.outbox.add(a_message(), utc_now())  # rolled back: nothing to deliver
    assert wakes == []

    async with uow:
        await uow.outbox.add(a_message(), utc_now())
        await uow.commit()
        await uow.commit()  # nothing new queued since the first commit
    assert len(wakes) == 1


async def test_a_failing_after_commit_does_not_undo_or_fail_the_commit(
    engine: AsyncEngine,
) -> None:
    def broken_wake() -> None:
        raise RuntimeError("dispatcher is gone")

    uow = SqlAlchemyUnitOfWork(engine, after_commit=broken_wake)
    async with uow:
        await uow.outbox.add(a_message(), utc_now())
        await uow.commit()

    async with uow:
        assert len(await uow.outbox.claim_due(utc_now(), 10, timedelta(seconds=60))) == 1


async def test_a_unit_of_work_cannot_be_entered_while_in_use(engine: AsyncEngine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    async with uow:
        with pytest.raises(RuntimeError, match="already in use"):
            await uow.__aenter__()


async def test_naive_datetimes_are_refused(engine: AsyncEngine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with pytest.raises(StatementError, match="naive datetime") as raised:
        async with uow:
            await uow.users.add(a_user(now=datetime(2024, 1, 1, 12, 0)))

    assert isinstance(raised.value.orig, ValueError)


async def test_deleting_a_user_deletes_their_refresh_tokens(engine: AsyncEngine) -> None:
    user = a_user()
    record = a_refresh_token(user.id)
    uow = SqlAlchemyUnitOfWork(engine)
    async with uow:
        await uow.users.add(user)
        await uow.refresh_tokens.add(record)
        await uow.commit()

    async with uow:
        await uow.users.delete(user.id)
        await uow.commit()

    async with uow:
        assert await uow.refresh_tokens.get(record.token_digest) is None


# --- SQLite under several processes ------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from neodyme_adapters.sqlalchemy import SqlAlchemyUnitOfWork, make_engine
    from tests.support.builders import a_user

    async def main(url, tag):
        engine = make_engine(url)

        async def add(i):
            uow = SqlAlchemyUnitOfWork(engine)
            async with uow:
                # read, then write: the pattern that deadlocks deferred SQLite transactions
                await uow.users.get_by_email(a_user(f"{tag}-{i}@example.com").email)
                await uow.users.add(a_user(f"{tag}-{i}@example.com"))
                await uow.commit()

        await asyncio.gather(*(add(i) for i in range(15)))
        await engine.dispose()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def test_sqlite_writers_in_several_processes_all_commit(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "shared.db"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite+aiosqlite:///{path}"
    root = Path(__file__).resolve().parents[2]

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, f"p{n}"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(3)
    ]
    for writer in writers:
        _out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err.decode()

    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (45,)
