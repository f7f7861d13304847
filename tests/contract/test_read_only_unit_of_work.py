"""The read-only unit of work that the token check and other pure reads use: it sees
committed data like any other, cannot commit, and does not queue behind a writer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from neodyme_adapters.sqlalchemy import SqlAlchemyUnitOfWork
from neodyme_domain.model import User
from tests.contract.conftest import sql_engine
from tests.support.builders import a_user

pytestmark = pytest.mark.parametrize(
    "adapter_database_url", ["sqlite", "postgres"], indirect=True
)  # an option of the SQL adapter; the memory adapter has one kind of transaction


@pytest.fixture
async def engine(adapter_database_url: str) -> AsyncIterator[AsyncEngine]:
    async with sql_engine(adapter_database_url) as engine:
        yield engine


async def committed_user(engine: AsyncEngine, email: str) -> User:
    """A user added and committed through an ordinary (writing) unit of work."""
    user = a_user(email)
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def test_a_reader_sees_what_was_committed(engine: AsyncEngine) -> None:
    user = await committed_user(engine, "reader@example.com")

    async with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
        found = await reader.users.get(user.id)

    assert found is not None
    assert found.email == user.email


async def test_a_reader_cannot_commit(engine: AsyncEngine) -> None:
    async with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
        with pytest.raises(RuntimeError, match="read-only"):
            await reader.commit()


async def test_a_reader_does_not_wait_for_an_open_write_transaction(engine: AsyncEngine) -> None:
    user = await committed_user(engine, "committed@example.com")

    async with SqlAlchemyUnitOfWork(engine) as writer:
        await writer.users.add(a_user("pending@example.com"))  # holds the write lock
        async with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
            found = await asyncio.wait_for(reader.users.get(user.id), timeout=2)
            pending = await reader.users.list_after(None, 10)

    assert found is not None
    assert [u.email.value for u in pending] == ["committed@example.com"]
