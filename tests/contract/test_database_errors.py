"""Which database errors are an outage (503, "retry") and which are bugs (500), with the
real errors of each driver (neodyme_adapters/sqlalchemy/errors.py decides, the unit of
work applies it): an outage leaves a unit of work as the domain's ``ServiceUnavailable``
with the driver's error as its cause, anything else as the driver's error itself, so that
a bug or a missing migration is never disguised as "please retry". (What the HTTP layer
makes of each: tests/unit/http/test_database_errors.py.)

PostgreSQL errors are raised by the server itself, one SQLSTATE at a time (``RAISE ...
USING ERRCODE``): psycopg turns each into its class, SQLAlchemy wraps it, as when the
server meant it. SQLite's are provoked: a lock held elsewhere, a missing table, a
duplicate, a file that cannot be opened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from neodyme_adapters.sqlalchemy import SQLITE_BEGIN_MODE, SqlAlchemyUnitOfWork, make_engine
from neodyme_adapters.sqlalchemy.errors import is_unavailable
from neodyme_domain.errors import ServiceUnavailable

OUTAGES = {
    "08006": "connection failure",
    "08001": "cannot establish a connection",
    "53300": "too many connections",
    "53100": "disk full",
    "57P01": "administrator shutdown",
    "57P03": "cannot connect now (starting up)",
    "57014": "statement cancelled (statement timeout)",
    "40001": "serialization failure",
    "40P01": "deadlock detected",
    "55P03": "lock not available",
}
BUGS = {
    "42P01": "undefined table (a missing migration)",
    "42703": "undefined column",
    "42601": "syntax error",
    "23505": "unique violation (not turned into a domain error)",
    "23503": "foreign key violation",
    "22P02": "invalid text representation",
    "22001": "value too long",
    "0A000": "feature not supported",
    "P0001": "an exception raised by a function",
    "XX000": "internal error",
}


async def error_of(call: Callable[[], Awaitable[object]]) -> Exception:
    """The exception ``call`` raises (it must raise one)."""
    try:
        await call()
    except Exception as error:
        return error
    raise AssertionError("no error was raised")


async def assert_classified(engine: AsyncEngine, error: Exception, outage: bool) -> None:
    """``is_unavailable`` says so, and a unit of work that the error leaves ends with
    ``ServiceUnavailable`` (caused by the error) for an outage, with the error itself for
    a bug."""
    assert is_unavailable(error) is outage, repr(error)
    expected: type[Exception] = ServiceUnavailable if outage else type(error)
    with pytest.raises(expected) as raised:
        async with SqlAlchemyUnitOfWork(engine):
            raise error
    assert (raised.value.__cause__ if outage else raised.value) is error


@pytest.fixture
async def postgres(postgres_contract_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(postgres_contract_url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize(
    ("sqlstate", "outage"),
    [(code, True) for code in OUTAGES] + [(code, False) for code in BUGS],
    ids=[f"{code} {what}" for code, what in (OUTAGES | BUGS).items()],
)
async def test_a_postgres_error_is_an_outage_or_a_bug_by_its_sqlstate(
    postgres: AsyncEngine, sqlstate: str, outage: bool
) -> None:
    async def raise_it() -> None:
        async with postgres.connect() as connection:
            await connection.exec_driver_sql(
                f"DO $$ BEGIN RAISE EXCEPTION 'neodyme test' USING ERRCODE = '{sqlstate}'; END $$"
            )

    error = await error_of(raise_it)

    assert getattr(getattr(error, "orig", None), "sqlstate", None) == sqlstate, repr(error)
    await assert_classified(postgres, error, outage)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite file with one table."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'errors.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        await connection.execute(text("INSERT INTO t (id) VALUES (1)"))
    yield engine
    await engine.dispose()


async def _execute(engine: AsyncEngine, sql: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(sql))


async def test_a_sqlite_database_locked_by_another_process_is_an_outage(
    sqlite: AsyncEngine, tmp_path: Path
) -> None:
    holder = sqlite3.connect(tmp_path / "errors.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a backup or a shell would hold it

    async def write_without_waiting() -> None:
        async with sqlite.connect() as connection:
            await connection.execution_options(**{SQLITE_BEGIN_MODE: "DEFERRED"})
            await connection.execute(text("PRAGMA busy_timeout = 0"))  # SQLITE_BUSY at once
            await connection.execute(text("INSERT INTO t (id) VALUES (2)"))

    try:
        error = await error_of(write_without_waiting)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert getattr(getattr(error, "orig", None), "sqlite_errorname", None) == "SQLITE_BUSY"
    await assert_classified(sqlite, error, outage=True)


async def test_a_sqlite_file_that_cannot_be_opened_is_an_outage(tmp_path: Path) -> None:
    (tmp_path / "a-directory.db").mkdir()  # where the database file should be
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'a-directory.db'}")
    try:
        error = await error_of(lambda: _execute(engine, "SELECT 1"))
        assert getattr(getattr(error, "orig", None), "sqlite_errorname", None) == "SQLITE_CANTOPEN"
        assert is_unavailable(error)
        # Entering a unit of work is where it shows first: the connection cannot be had.
        with pytest.raises(ServiceUnavailable):
            async with SqlAlchemyUnitOfWork(engine):
                pass
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("sql", "errorname"),
    [
        ("INSERT INTO missing (id) VALUES (1)", "SQLITE_ERROR"),  # no such table
        ("INSERT INTO t (id) VALUES (1)", "SQLITE_CONSTRAINT_PRIMARYKEY"),
        ("SELEKT 1", "SQLITE_ERROR"),
    ],
    ids=["no such table (a missing migration)", "duplicate key", "syntax error"],
)
async def test_a_sqlite_error_of_the_statement_is_a_bug(
    sqlite: AsyncEngine, sql: str, errorname: str
) -> None:
    error = await error_of(lambda: _execute(sqlite, sql))

    assert getattr(getattr(error, "orig", None), "sqlite_errorname", None) == errorname
    await assert_classified(sqlite, error, outage=False)
