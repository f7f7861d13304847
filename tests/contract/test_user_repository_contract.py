"""UserRepository, through the UnitOfWork, for every adapter."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from neodyme_domain.errors import EmailAlreadyExists
from neodyme_domain.model import Email, User, UserId, new_id
from neodyme_domain.pagination import Position
from tests.contract.conftest import UowFactory
from tests.support.builders import (
    ORDER_EDGE_IDS,
    a_one_time_token,
    a_refresh_token,
    a_user,
    an_event,
    utc_now,
)


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


async def test_a_deleted_users_address_can_be_taken_again(uow_factory: UowFactory) -> None:
    user = a_user("ada@example.com")
    await add(uow_factory, user)
    async with uow_factory() as uow:
        await uow.users.delete(user.id)
        await uow.commit()

    successor = a_user("ADA@example.com")
    await add(uow_factory, successor)

    assert await get(uow_factory, "ada@example.com") == successor


async def test_an_update_follows_the_address_and_refuses_a_taken_one(
    uow_factory: UowFactory,
) -> None:
    ada, grace = a_user("ada@example.com"), a_user("grace@example.com")
    await add(uow_factory, ada, grace)

    async with uow_factory() as uow:
        await uow.users.update(replace(ada, email=Email.parse("countess@example.com")))
        await uow.commit()
    with pytest.raises(EmailAlreadyExists):
        async with uow_factory() as uow:
            await uow.users.update(replace(grace, email=Email.parse("COUNTESS@example.com")))

    async with uow_factory() as uow:
        assert await uow.users.get_by_email(Email.parse("ada@example.com")) is None
        moved = await uow.users.get_by_email(Email.parse("countess@example.com"))
        assert moved is not None
        assert moved.id == ada.id
        assert await uow.users.get_by_email(Email.parse("grace@example.com")) == grace


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


# --- list_after: keyset pages ---------------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)
PLUS_0530 = timezone(timedelta(hours=5, minutes=30))
MAX_PAGES = 100  # far more than any walk here needs: a cursor that stalls fails, not hangs
_emails = itertools.count()


def a_user_at(created_at: datetime, user_id: UserId | None = None) -> User:
    user = a_user(f"user{next(_emails)}@example.com", now=created_at)
    return user if user_id is None else replace(user, id=user_id)


def position(user: User) -> Position:
    return Position(user.created_at, user.id)


def population() -> list[User]:
    """Users with many ties on created_at, so that the id decides most of the order."""
    users = [a_user_at(T0, user_id) for user_id in ORDER_EDGE_IDS]  # 8 ties
    users += [a_user_at(T0.astimezone(PLUS_0530)) for _ in range(2)]  # the same instant
    users += [a_user_at(T0 + timedelta(microseconds=1)) for _ in range(3)]
    users += [a_user_at(T0 - timedelta(days=1)) for _ in range(2)]
    random.Random(7).shuffle(users)  # insertion order must not matter
    return users


async def list_after(uow_factory: UowFactory, after: Position | None, limit: int) -> list[User]:
    async with uow_factory() as uow:
        return await uow.users.list_after(after, limit)


async def walk(
    uow_factory: UowFactory,
    limit: int,
    between_pages: Callable[[Position], Awaitable[None]] | None = None,
) -> list[User]:
    """Every page from the start, each in a transaction of its own, as a client would."""
    seen: list[User] = []
    after: Position | None = None
    for _ in range(MAX_PAGES):
        page = await list_after(uow_factory, after, limit)
        assert len(page) <= limit
        seen += page
        if len(page) < limit:
            return seen
        after = position(page[-1])
        if between_pages is not None:
            await between_pages(after)
    raise AssertionError(f"no last page after {MAX_PAGES} pages: the cursor does not advance")


async def test_list_after_of_an_empty_store_is_empty(uow_factory: UowFactory) -> None:
    assert await list_after(uow_factory, None, 10) == []


@pytest.mark.parametrize("limit", [1, 2, 7, 50])
async def test_list_after_walks_every_user_once_by_created_at_then_id(
    uow_factory: UowFactory, limit: int
) -> None:
    users = population()
    await add(uow_factory, *users)

    seen = await walk(uow_factory, limit)

    assert [u.id for u in seen] == [u.id for u in sorted(users, key=position)]
    assert seen == sorted(users, key=position)  # whole entities, not just ids


async def test_list_after_is_strictly_after_the_position(uow_factory: UowFactory) -> None:
    users = sorted(population(), key=position)
    await add(uow_factory, *users)

    for i, user in enumerate(users):
        assert await list_after(uow_factory, position(user), 3) == users[i + 1 : i + 4]


async def test_list_after_accepts_positions_that_are_no_user(uow_factory: UowFactory) -> None:
    users = sorted(population(), key=position)
    await add(uow_factory, *users)
    between = Position(T0, uuid.UUID(int=1))  # between the first two ties
    expected = [u for u in users if position(u) > between]

    assert await list_after(uow_factory, between, 50) == expected
    # The same instant in another offset is the same position.
    shifted = Position(T0.astimezone(PLUS_0530), between.id)
    assert await list_after(uow_factory, shifted, 50) == expected
    assert await list_after(uow_factory, Position(T0 - timedelta(days=9), between.id), 50) == users
    assert await list_after(uow_factory, Position(T0 + timedelta(days=9), between.id), 50) == []


@pytest.mark.parametrize("limit", [2, 7])  # one newcomer after the cursor per page
async def test_list_after_sees_every_initial_user_once_while_users_are_added(
    uow_factory: UowFactory, limit: int
) -> None:
    initial = population()
    await add(uow_factory, *initial)
    later: list[User] = []

    async def register_more(cursor: Position) -> None:
        # Before everything, tied with the cursor's instant, and after everything (also
        # after the newcomers of the pages before).
        newcomers = [
            a_user_at(T0 - timedelta(days=30)),
            a_user_at(cursor.at),
            a_user_at(T0 + timedelta(days=30, seconds=len(later))),
        ]
        later.append(newcomers[-1])
        await add(uow_factory, *newcomers)

    seen = await walk(uow_factory, limit, between_pages=register_more)

    ids = [u.id for u in seen]
    assert len(ids) == len(set(ids)), "a user was listed twice"
    assert [position(u) for u in seen] == sorted(position(u) for u in seen)
    assert {u.id for u in initial} <= set(ids)
    assert {u.id for u in later} <= set(ids)  # created after the cursor: always reached
    assert all(u.created_at > T0 - timedelta(days=30) for u in seen)  # behind it: never


async def test_list_after_sees_its_own_uncommitted_users(uow_factory: UowFactory) -> None:
    committed, pending = a_user_at(T0), a_user_at(T0 + timedelta(seconds=1))
    await add(uow_factory, committed)
    async with uow_factory() as uow:
        await uow.users.add(pending)
        assert await uow.users.list_after(None, 10) == [committed, pending]

    assert await list_after(uow_factory, None, 10) == [committed]


# --- token_version --------------------------------------------------------------------------


async def test_token_version_starts_at_zero_and_round_trips(uow_factory: UowFactory) -> None:
    fresh = a_user("ada@example.com")
    bumped = replace(a_user("grace@example.com"), token_version=41)
    await add(uow_factory, fresh, bumped)

    async with uow_factory() as uow:
        by_id = await uow.users.get(bumped.id)
        by_email = await uow.users.get_by_email(bumped.email)
        listed = await uow.users.list_after(None, 10)
        assert (await uow.users.get(fresh.id)) == fresh

    assert fresh.token_version == 0
    assert by_id is not None
    assert by_email is not None
    assert by_id.token_version == by_email.token_version == 41
    assert {u.id: u.token_version for u in listed} == {fresh.id: 0, bumped.id: 41}


async def test_token_version_updates_are_persisted(uow_factory: UowFactory) -> None:
    user = a_user(now=T0)
    await add(uow_factory, user)

    async with uow_factory() as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None
        stored.change_password("$argon2id$new", T0 + timedelta(minutes=1))
        stored.deactivate(T0 + timedelta(minutes=2))
        await uow.users.update(stored)
        await uow.commit()

    async with uow_factory() as uow:
        found = await uow.users.get(user.id)
    assert found == stored
    assert found is not None
    assert found.token_version == 2
    assert found.is_active is False


async def test_token_version_update_is_undone_by_rollback(uow_factory: UowFactory) -> None:
    user = a_user(now=T0)
    await add(uow_factory, user)
    async with uow_factory() as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None
        stored.deactivate(T0 + timedelta(minutes=1))
        await uow.users.update(stored)

    async with uow_factory() as uow:
        assert await uow.users.get(user.id) == user


# --- delete: tokens go, events stay ---------------------------------------------------------


async def test_delete_removes_the_users_tokens_but_keeps_their_events(
    uow_factory: UowFactory,
) -> None:
    user, other = a_user("ada@example.com"), a_user("grace@example.com")
    refresh = {u.id: [a_refresh_token(u.id) for _ in range(2)] for u in (user, other)}
    one_time = {u.id: [a_one_time_token(u.id) for _ in range(2)] for u in (user, other)}
    start = utc_now()
    events = [
        an_event(f"step_{i}", user_id=user.id, occurred_at=start + timedelta(seconds=i))
        for i in range(3)
    ]
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.users.add(other)
        for u in (user, other):
            for record in refresh[u.id]:
                await uow.refresh_tokens.add(record)
            for one in one_time[u.id]:
                await uow.one_time_tokens.add(one)
        for event in events:
            await uow.events.record(event)
        await uow.commit()

    async with uow_factory() as uow:
        await uow.users.delete(user.id)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None
        for record in refresh[user.id]:
            assert await uow.refresh_tokens.get(record.token_digest) is None
        for one in one_time[user.id]:
            assert await uow.one_time_tokens.get(one.token_digest) is None
        for record in refresh[other.id]:
            assert await uow.refresh_tokens.get(record.token_digest) == record
        for one in one_time[other.id]:
            assert await uow.one_time_tokens.get(one.token_digest) == one
        assert await uow.events.list_for_user(user.id, None, 10) == events[::-1]


async def test_delete_rolled_back_keeps_the_users_tokens(uow_factory: UowFactory) -> None:
    user = a_user()
    record, one = a_refresh_token(user.id), a_one_time_token(user.id)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.refresh_tokens.add(record)
        await uow.one_time_tokens.add(one)
        await uow.commit()

    async with uow_factory() as uow:
        await uow.users.delete(user.id)
        assert await uow.one_time_tokens.get(one.token_digest) is None

    async with uow_factory() as uow:
        assert await uow.users.get(user.id) == user
        assert await uow.refresh_tokens.get(record.token_digest) == record
        assert await uow.one_time_tokens.get(one.token_digest) == one
