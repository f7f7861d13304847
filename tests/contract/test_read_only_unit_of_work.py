"""The read-only unit of work that the token check and other pure reads use: it sees
committed data like any other, cannot commit, and does not queue behind a writer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from neodyme_adapters.sqlalchemy import SqlAlchemyUnitOfWork, make_engine
from tests.support.builders import a_user
from tests.support.database import empty_tables

pytestmark = pytest.mark.parametrize(
    "adapter_database_url", ["sqlite", "postgres"], indirect=True
)  # an option of the SQL adapter; the memory adapter has one kind of transaction


@pytest.fixture
async def engine(adapter_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(adapter_database_url)
    yield engine
    if engine.dialect.name == "postgresql":
        await empty_tables(engine)
    await engine.dispose()


async def test_a_reader_sees_what_was_committed(engine: AsyncEngine) -> None:
    user = a_user("reader@example.com")
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.users.add(user)
        await uow.commit()

    async with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
        found = await reader.users.get(user.id)

    assert found is not None
    assert found.email == user.email


async def test_a_reader_cannot_commit(engine: AsyncEngine) -> None:
    async with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
        with pytest.raises(RuntimeError, match="read-only"):
            await reader.commit()


async def test_a_reader_does_not_wait_for_an_open_write_transaction(engine: AsyncEngine) -> None:
    user = a_user("committed@example.com")
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.users.add(user)
        await uow.commit()

    async with SqlAlchemyUnitOfWork(engine) as writer:
        await writer.users.add(a_user("pending@example.com"))  # holds the write lock
        async with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
            found = await asyncio.wait_for(reader.users.get(user.id), timeout=2)
            pending = await reader.users.list_after(None, 10)

    assert found is not None
    assert [u.email.value for u in pending] == ["committed@example.com"]
