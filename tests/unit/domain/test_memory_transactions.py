"""The in-memory unit of work keeps the promise of the UnitOfWork port: leaving without
commit, or with an error, leaves the committed state untouched."""

from __future__ import annotations

from datetime import datetime

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import Email, EmailAlreadyExists, EmailMessage, SecurityEvent, User
from tests.unit.domain.helpers import counts


def new_user(email: str, now: datetime) -> User:
    return User.register(
        email=Email.parse(email), full_name="Someone", hashed_password="$argon2id$x", now=now
    )


def welcome(user: User) -> EmailMessage:
    return EmailMessage.welcome(user)


async def test_leaving_a_unit_of_work_without_commit_rolls_back(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    user = new_user("jane@example.com", clock.now())

    async with InMemoryUnitOfWork(database) as uow:
        await uow.users.add(user)
        await uow.outbox.add(welcome(user), clock.now())
        await uow.events.record(SecurityEvent(type="user_registration", occurred_at=clock.now()))
        assert await uow.users.get(user.id) is not None  # visible inside the transaction

    assert counts(database) == counts(MemoryDatabase())
    async with InMemoryUnitOfWork(database) as uow:
        assert await uow.users.get(user.id) is None


async def test_an_error_inside_a_unit_of_work_rolls_back_and_propagates(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    user = new_user("jane@example.com", clock.now())

    async def add_then_fail() -> None:
        async with InMemoryUnitOfWork(database) as uow:
            await uow.users.add(user)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await add_then_fail()

    assert database.state.users == {}
    # The lock was released: the next transaction can start.
    async with InMemoryUnitOfWork(database) as uow:
        assert await uow.users.get(user.id) is None


async def test_an_error_after_commit_keeps_what_was_committed(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    first = new_user("first@example.com", clock.now())
    second = new_user("second@example.com", clock.now())

    async def commit_one_then_fail() -> None:
        async with InMemoryUnitOfWork(database) as uow:
            await uow.users.add(first)
            await uow.commit()
            await uow.users.add(second)
            raise RuntimeError("after commit")

    with pytest.raises(RuntimeError, match="after commit"):
        await commit_one_then_fail()

    assert set(database.state.users) == {first.id}


async def test_committed_changes_are_visible_to_the_next_unit_of_work(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    user = new_user("jane@example.com", clock.now())

    async with InMemoryUnitOfWork(database) as uow:
        await uow.users.add(user)
        await uow.commit()
        assert uow.committed

    async with InMemoryUnitOfWork(database) as uow:
        assert await uow.users.get_by_email(Email.parse("JANE@EXAMPLE.COM")) == user


async def test_a_unit_of_work_can_be_entered_again_as_a_new_transaction(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    uow = InMemoryUnitOfWork(database)
    user = new_user("jane@example.com", clock.now())

    async with uow:
        await uow.users.add(user)
    async with uow:
        assert await uow.users.get(user.id) is None
        assert not uow.committed
        await uow.users.add(user)
        await uow.commit()

    assert set(database.state.users) == {user.id}


async def test_changing_a_loaded_user_without_update_changes_nothing_stored(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    user = new_user("jane@example.com", clock.now())
    async with InMemoryUnitOfWork(database) as uow:
        await uow.users.add(user)
        await uow.commit()

    async with InMemoryUnitOfWork(database) as uow:
        loaded = await uow.users.get(user.id)
        assert loaded is not None
        loaded.is_active = False
        await uow.commit()
    user.full_name = "Changed after add"

    stored = database.state.users[user.id]
    assert stored.is_active is True
    assert stored.full_name == "Someone"


async def test_the_repository_refuses_a_second_user_with_the_same_email_in_any_case(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    async with InMemoryUnitOfWork(database) as uow:
        await uow.users.add(new_user("jane@example.com", clock.now()))
        await uow.commit()

    with pytest.raises(EmailAlreadyExists):
        async with InMemoryUnitOfWork(database) as uow:
            await uow.users.add(new_user("JANE@Example.com", clock.now()))

    assert len(database.state.users) == 1


async def test_commit_outside_a_transaction_is_an_error(database: MemoryDatabase) -> None:
    with pytest.raises(RuntimeError):
        await InMemoryUnitOfWork(database).commit()


async def test_a_read_only_unit_of_work_reads_the_committed_state_and_cannot_commit(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    user = new_user("jane@example.com", clock.now())
    async with InMemoryUnitOfWork(database) as uow:
        await uow.users.add(user)
        await uow.commit()

    async with InMemoryUnitOfWork(database, read_only=True) as reader:
        found = await reader.users.get_by_email(user.email)
        assert found is not None
        assert found.id == user.id
        with pytest.raises(RuntimeError, match="read-only"):
            await reader.commit()

    assert counts(database).users == 1
