"""One store per test, behind every adapter of the stateful ports.

``uow_factory`` builds fresh units of work over one shared store: an in-memory
``MemoryDatabase``, a SQLite file, or this worker's PostgreSQL scratch database. The
suites use only the ``UnitOfWork`` protocol; ``read_events`` is the one reader the
protocol lacks (the event recorder is write-only by design).

Speed: PostgreSQL is migrated once per worker session and emptied after each test;
SQLite is migrated once into a template file that each test copies.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_adapters.sqlalchemy import (
    SQLITE_BEGIN_MODE,
    SqlAlchemyUnitOfWork,
    make_engine,
    upgrade,
)
from neodyme_adapters.sqlalchemy.mapping import security_event_from_row
from neodyme_adapters.sqlalchemy.tables import security_events
from neodyme_domain.messages import SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.ports import UnitOfWork
from tests.support.builders import a_user
from tests.support.database import empty_tables
from tests.support.postgres import drop_database, resolve_postgres_url, scratch_database

UowFactory = Callable[[], UnitOfWork]
EventReader = Callable[[], Awaitable[list[SecurityEvent]]]


@dataclass(frozen=True)
class Store:
    new_uow: UowFactory
    read_events: EventReader


def run_scoped_name(prefix: str, worker_id: str) -> str:
    """A database name unique to this worker of this run: concurrent pytest runs on one
    server (two checkouts, the e2e suite) must not drop each other's databases."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]
    return f"{prefix}_{worker_id}_{run}".lower()


@pytest.fixture(scope="session")
def postgres_contract_url(worker_id: str) -> Iterator[str]:
    base_url = resolve_postgres_url()
    name = run_scoped_name("neodyme_contract", worker_id)
    url = scratch_database(base_url, name)
    upgrade(url)
    yield url
    drop_database(base_url, name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "neodyme.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@asynccontextmanager
async def sql_engine(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on one test's migrated database. On the way out a PostgreSQL database is
    emptied for the worker's next test (a SQLite file is the test's own), and the engine
    disposed."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        if engine.dialect.name == "postgresql":
            await empty_tables(engine)
        await engine.dispose()


def _sql_event_reader(engine: AsyncEngine) -> EventReader:
    async def read_events() -> list[SecurityEvent]:
        async with engine.connect() as connection:
            await connection.execution_options(**{SQLITE_BEGIN_MODE: "DEFERRED"})
            rows = await connection.execute(
                select(security_events).order_by(security_events.c.occurred_at)
            )
            return [security_event_from_row(row) for row in rows]

    return read_events


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def adapter_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """The adapter under test: None for memory, else a migrated, empty database.

    Synchronous on purpose: the session fixtures it may pull in run ``upgrade()``, which
    must not run inside the test's event loop.
    """
    if request.param == "memory":
        return None
    if request.param == "sqlite":
        path = tmp_path / "neodyme.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_contract_url")
    return url


@pytest.fixture
async def store(adapter_database_url: str | None) -> AsyncIterator[Store]:
    if adapter_database_url is None:
        database = MemoryDatabase()

        async def read_memory_events() -> list[SecurityEvent]:
            return list(database.events)

        yield Store(lambda: InMemoryUnitOfWork(database), read_memory_events)
        return

    async with sql_engine(adapter_database_url) as engine:
        yield Store(lambda: SqlAlchemyUnitOfWork(engine), _sql_event_reader(engine))


@pytest.fixture
def uow_factory(store: Store) -> UowFactory:
    return store.new_uow


@pytest.fixture
def read_events(store: Store) -> EventReader:
    return store.read_events


@pytest.fixture
async def owner(uow_factory: UowFactory) -> User:
    """A stored user for the token stores: tokens belong to one (the SQL schema enforces
    it with a foreign key)."""
    user = a_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


@pytest.fixture
async def stranger(uow_factory: UowFactory, owner: User) -> User:
    """A second stored user, for what must not touch the owner's records (or the reverse)."""
    user = a_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user
