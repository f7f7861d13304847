"""UserRepository, through the UnitOfWork, for every adapter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from neodyme_domain.errors import EmailAlreadyExists
from neodyme_domain.model import Email, User, new_id
from tests.contract.conftest import UowFactory
from tests.support.builders import a_user


async def add(uow_factory: UowFactory, *users: User) -> None:
    async with uow_factory() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()


async def get(uow_factory: UowFactory, email: str) -> User | None:
    async with uow_factory() as uow:
        return await uow.users.get_by_email(Email.parse(email))


async def test_added_user_can_be_read_back_by_id(uow_factory: UowFactory) -> None:
    user = a_user("Ada.Lovelace@Example.COM", is_superuser=True)
    await add(uow_factory, user)

    async with uow_factory() as uow:
        found = await uow.users.get(user.id)

    assert found == user
    assert found is not None
    assert found.email.value == "Ada.Lovelace@example.com"  # display form kept


async def test_get_by_email_ignores_case(uow_factory: UowFactory) -> None:
    user = a_user("Grace.Hopper@example.com")
    await add(uow_factory, user)

    for variant in ("grace.hopper@example.com", "GRACE.HOPPER@EXAMPLE.COM"):
        found = await get(uow_factory, variant)
        assert found is not None
        assert found.id == user.id


async def test_get_of_unknown_id_returns_none(uow_factory: UowFactory) -> None:
    await add(uow_factory, a_user())
    async with uow_factory() as uow:
        assert await uow.users.get(new_id()) is None


async def test_get_by_unknown_email_returns_none(uow_factory: UowFactory) -> None:
    await add(uow_factory, a_user("ada@example.com"))
    assert await get(uow_factory, "nobody@example.com") is None


async def test_update_persists_changes_and_moves_updated_at_forward(
    uow_factory: UowFactory,
) -> None:
    created = datetime(2024, 5, 17, 13, 45, 12, 345678, tzinfo=UTC)
    user = a_user(now=created)
    await add(uow_factory, user)

    later = created + timedelta(minutes=5, microseconds=1)
    async with uow_factory() as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None
        stored.rename("Augusta Ada King", later)
        await uow.users.update(stored)
        await uow.commit()

    async with uow_factory() as uow:
        found = await uow.users.get(user.id)
    assert found is not None
    assert found.full_name == "Augusta Ada King"
    assert found.created_at == created
    assert found.updated_at == later


async def test_delete_removes_the_user(uow_factory: UowFactory) -> None:
    user, other = a_user("ada@example.com"), a_user("grace@example.com")
    await add(uow_factory, user, other)

    async with uow_factory() as uow:
        await uow.users.delete(user.id)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None
        assert await uow.users.get_by_email(user.email) is None
        assert await uow.users.get(other.id) == other


async def test_delete_of_unknown_user_does_nothing(uow_factory: UowFactory) -> None:
    user = a_user()
    await add(uow_factory, user)
    async with uow_factory() as uow:
        await uow.users.delete(new_id())
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) == user


@pytest.mark.parametrize("second", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com"])
async def test_adding_a_taken_email_in_any_case_raises_email_already_exists(
    uow_factory: UowFactory, second: str
) -> None:
    first = a_user("ada@example.com")
    await add(uow_factory, first)

    with pytest.raises(EmailAlreadyExists) as raised:
        await add(uow_factory, a_user(second, full_name="Impostor"))

    assert raised.value.context["email"] == Email.parse(second).value
    assert await get(uow_factory, "ada@example.com") == first


async def test_transaction_can_commit_other_work_after_email_already_exists(
    uow_factory: UowFactory,
) -> None:
    first = a_user("ada@example.com")
    await add(uow_factory, first)
    newcomer = a_user("grace@example.com")

    async with uow_factory() as uow:
        with pytest.raises(EmailAlreadyExists):
            await uow.users.add(a_user("ADA@example.com"))
        await uow.users.add(newcomer)
        await uow.commit()

    assert await get(uow_factory, "ada@example.com") == first
    assert await get(uow_factory, "grace@example.com") == newcomer


async def test_leaving_without_commit_rolls_back(uow_factory: UowFactory) -> None:
    user = a_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        assert await uow.users.get(user.id) == user  # visible inside its own transaction

    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None


async def test_an_error_in_the_block_rolls_back(uow_factory: UowFactory) -> None:
    user = a_user()

    async def add_then_fail() -> None:
        async with uow_factory() as uow:
            await uow.users.add(user)
            raise LookupError("boom")

    with pytest.raises(LookupError):
        await add_then_fail()

    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None


async def test_a_unit_of_work_can_be_entered_again(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    first, second = a_user("ada@example.com"), a_user("grace@example.com")

    async with uow:
        await uow.users.add(first)
        await uow.commit()
    async with uow:
        await uow.users.add(second)  # left without commit: rolled back
    async with uow:
        assert await uow.users.get(first.id) == first
        assert await uow.users.get(second.id) is None


async def test_statements_after_commit_run_in_a_new_transaction(uow_factory: UowFactory) -> None:
    committed, dropped = a_user("ada@example.com"), a_user("grace@example.com")
    async with uow_factory() as uow:
        await uow.users.add(committed)
        await uow.commit()
        await uow.users.add(dropped)

    async with uow_factory() as uow:
        assert await uow.users.get(committed.id) == committed
        assert await uow.users.get(dropped.id) is None


async def test_timestamps_come_back_timezone_aware_utc_and_equal(uow_factory: UowFactory) -> None:
    created = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
    user = a_user(now=created)
    await add(uow_factory, user)

    async with uow_factory() as uow:
        found = await uow.users.get(user.id)

    assert found is not None
    for value in (found.created_at, found.updated_at):
        assert value == created
        assert value.utcoffset() == timedelta(0)
        assert value.microsecond == 999999


async def test_timestamps_in_another_offset_come_back_as_the_same_instant(
    uow_factory: UowFactory,
) -> None:
    created = datetime(2024, 7, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    user = a_user(now=created)
    await add(uow_factory, user)

    async with uow_factory() as uow:
        found = await uow.users.get(user.id)

    assert found is not None
    assert found.created_at == created
    assert found.created_at.utcoffset() is not None


async def test_fifty_concurrent_units_of_work_adding_distinct_users_all_commit(
    uow_factory: UowFactory,
) -> None:
    users = [a_user(f"user{i}@example.com") for i in range(50)]

    await asyncio.gather(*(add(uow_factory, user) for user in users))

    async with uow_factory() as uow:
        for user in users:
            assert await uow.users.get(user.id) == user


async def test_concurrent_adds_of_one_address_let_exactly_one_succeed(
    uow_factory: UowFactory,
) -> None:
    variants = ["ada@example.com", "ADA@example.com", "Ada@Example.com", "aDa@EXAMPLE.com"]
    candidates = [a_user(variants[i % len(variants)]) for i in range(20)]

    outcomes = await asyncio.gather(
        *(add(uow_factory, user) for user in candidates), return_exceptions=True
    )

    winners = [user for user, outcome in zip(candidates, outcomes, strict=True) if outcome is None]
    losers = [outcome for outcome in outcomes if outcome is not None]
    assert len(winners) == 1
    assert len(losers) == 19
    assert all(isinstance(outcome, EmailAlreadyExists) for outcome in losers), losers
    async with uow_factory() as uow:
        stored = [await uow.users.get(user.id) for user in candidates]
        assert await uow.users.get_by_email(Email.parse("ada@example.com")) == winners[0]
    assert [user for user in stored if user is not None] == winners
