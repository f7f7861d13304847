"""What the connection pool tells the metrics, on SQLite and PostgreSQL: its size, the
connections in use as they come and go, and the checkouts that had to wait for one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from neodyme_adapters.sqlalchemy import SqlAlchemyUnitOfWork, make_engine


class RecordingPoolObserver:
    def __init__(self) -> None:
        self.size: int | None = None
        self.in_use: list[int] = []
        self.waits: list[float] = []

    def pool_limits(self, size: int) -> None:
        self.size = size

    def connections_in_use(self, count: int) -> None:
        self.in_use.append(count)

    def pool_waited(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def observer() -> RecordingPoolObserver:
    return RecordingPoolObserver()


@pytest.fixture(params=["sqlite", "postgres"])
def pool_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Synchronous: the PostgreSQL session fixture migrates outside any event loop. Only
    connections are taken here (no table is read): the SQLite file may stay empty."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    url: str = request.getfixturevalue("postgres_contract_url")
    return url


@pytest.fixture
async def engine(pool_url: str, observer: RecordingPoolObserver) -> AsyncIterator[AsyncEngine]:
    """A pool of ONE connection: a second unit of work at a time must wait for it."""
    engine = make_engine(pool_url, pool_size=1, pool_timeout=30, pool_observer=observer)
    yield engine
    await engine.dispose()


def unit_of_work(engine: AsyncEngine, observer: RecordingPoolObserver) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(engine, pool_observer=observer, read_only=True)


async def test_connections_in_use_follow_checkout_and_checkin(
    engine: AsyncEngine, observer: RecordingPoolObserver
) -> None:
    assert observer.size == 1

    async with unit_of_work(engine, observer):
        assert observer.in_use[-1] == 1
    assert observer.in_use[-1] == 0
    assert not observer.waits  # a free connection was there


async def test_a_checkout_that_finds_every_connection_taken_is_a_wait(
    engine: AsyncEngine, observer: RecordingPoolObserver
) -> None:
    checking_out = asyncio.Event()

    async def second() -> None:
        checking_out.set()  # no await before the checkout decides that it waits
        async with unit_of_work(engine, observer):
            pass

    async with unit_of_work(engine, observer):
        waiting = asyncio.create_task(second())
        await checking_out.wait()  # the second unit of work is now waiting in the pool
        assert not observer.waits
    await waiting

    assert len(observer.waits) == 1
    assert observer.waits[0] > 0
    assert observer.in_use[-1] == 0
