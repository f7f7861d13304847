"""EventRecorder, through the UnitOfWork, for every adapter. The protocol is write-only, so
``read_events`` (from the conftest) reads what each adapter committed."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from neodyme_domain.messages import SecurityEvent
from neodyme_domain.model import UserId, new_id
from neodyme_domain.pagination import Position
from tests.contract.conftest import EventReader, UowFactory
from tests.support.builders import ORDER_EDGE_IDS, an_event, utc_now


async def test_recorded_event_is_kept_with_commit(
    uow_factory: UowFactory, read_events: EventReader
) -> None:
    event = an_event("user_login", user_id=new_id())
    async with uow_factory() as uow:
        await uow.events.record(event)
        await uow.commit()

    assert await read_events() == [event]


async def test_recorded_event_is_gone_with_rollback(
    uow_factory: UowFactory, read_events: EventReader
) -> None:
    async with uow_factory() as uow:
        await uow.events.record(an_event("user_registration"))

    assert await read_events() == []


async def test_event_round_trips_every_field(
    uow_factory: UowFactory, read_events: EventReader
) -> None:
    event = an_event(
        "login_failed",
        occurred_at=datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        user_id=new_id(),
        client_ip="2001:db8::1",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) neodyme-tests/1.0",
        data={
            "reason": "invalid_password",
            "attempt": 3,
            "locked": False,
            "ratio": 0.5,
            "nothing": None,
            "tags": ["a", "b"],
            "nested": {"family_id": "f-1", "depth": [1, {"x": "y"}]},
            "unicode": "Grüße, Ада",
        },
    )
    async with uow_factory() as uow:
        await uow.events.record(event)
        await uow.commit()

    [found] = await read_events()
    assert found == event
    assert found.occurred_at.utcoffset() == timedelta(0)


async def test_event_with_only_required_fields_round_trips(
    uow_factory: UowFactory, read_events: EventReader
) -> None:
    event = an_event("user_registration")
    async with uow_factory() as uow:
        await uow.events.record(event)
        await uow.commit()

    [found] = await read_events()
    assert found == event
    assert (found.user_id, found.client_ip, found.user_agent, found.data) == (None, None, None, {})


async def test_event_outlives_its_user(uow_factory: UowFactory, read_events: EventReader) -> None:
    event = an_event("user_deleted", user_id=new_id())  # no such user stored: no foreign key
    async with uow_factory() as uow:
        await uow.events.record(event)
        await uow.commit()

    assert await read_events() == [event]


async def test_uuid_in_event_data_is_kept_as_its_string(
    uow_factory: UowFactory, read_events: EventReader
) -> None:
    family = new_id()
    async with uow_factory() as uow:
        await uow.events.record(an_event("refresh_token_reused", data={"family": family}))
        await uow.commit()

    [found] = await read_events()
    # Typed: the string, on every store (a store that handed back the UUID itself would
    # give its readers another type than the others do).
    assert found.data == {"family": str(family)}
    assert type(found.data["family"]) is str


async def test_several_events_of_one_transaction_are_all_kept(
    uow_factory: UowFactory, read_events: EventReader
) -> None:
    start = utc_now()
    events = [an_event(f"step_{i}", occurred_at=start + timedelta(seconds=i)) for i in range(3)]
    async with uow_factory() as uow:
        for event in events:
            await uow.events.record(event)
        await uow.commit()

    assert await read_events() == events


# --- list_for_user: a user's history, newest first ----------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)
PLUS_0530 = timezone(timedelta(hours=5, minutes=30))


def position(event: SecurityEvent) -> Position:
    return Position(event.occurred_at, event.id)


def newest_first(events: list[SecurityEvent]) -> list[SecurityEvent]:
    return sorted(events, key=position, reverse=True)


def history(user_id: UserId | None) -> list[SecurityEvent]:
    """Events with many ties on occurred_at, so that the id decides most of the order."""
    events = [
        replace(an_event("user_login", user_id=user_id, occurred_at=T0), id=event_id)
        for event_id in ORDER_EDGE_IDS
    ]
    events += [
        an_event("token_refreshed", user_id=user_id, occurred_at=T0.astimezone(PLUS_0530))
        for _ in range(2)
    ]
    events += [
        an_event("login_failed", user_id=user_id, occurred_at=T0 + timedelta(microseconds=1)),
        an_event("user_registration", user_id=user_id, occurred_at=T0 - timedelta(days=1)),
        an_event("password_changed", user_id=user_id, occurred_at=T0 + timedelta(days=1)),
    ]
    return events


async def record(uow_factory: UowFactory, *events: SecurityEvent) -> None:
    shuffled = list(events)
    random.Random(11).shuffle(shuffled)  # recording order must not matter
    async with uow_factory() as uow:
        for event in shuffled:
            await uow.events.record(event)
        await uow.commit()


async def list_for_user(
    uow_factory: UowFactory, user_id: UserId, before: Position | None, limit: int
) -> list[SecurityEvent]:
    async with uow_factory() as uow:
        return await uow.events.list_for_user(user_id, before, limit)


async def populated(uow_factory: UowFactory) -> tuple[UserId, list[SecurityEvent]]:
    """A user's history amid another user's (at the very same instants) and events of no
    user; returns the user's id and their events, newest first."""
    user_id, other_id = new_id(), new_id()
    own = history(user_id)
    others = [replace(event, id=new_id(), user_id=other_id) for event in history(other_id)]
    await record(uow_factory, *own, *others, *history(None)[8:])
    return user_id, newest_first(own)


async def test_list_for_user_lists_only_that_users_events_newest_first(
    uow_factory: UowFactory,
) -> None:
    user_id, expected = await populated(uow_factory)

    found = await list_for_user(uow_factory, user_id, None, 50)

    assert found == expected
    assert [e.id for e in found] == [e.id for e in expected]  # ties in id order, descending


async def test_list_for_user_of_a_user_without_events_is_empty(uow_factory: UowFactory) -> None:
    await populated(uow_factory)
    assert await list_for_user(uow_factory, new_id(), None, 50) == []


@pytest.mark.parametrize("limit", [1, 2, 5, 50])
async def test_list_for_user_pages_walk_every_event_once(
    uow_factory: UowFactory, limit: int
) -> None:
    user_id, expected = await populated(uow_factory)
    seen: list[SecurityEvent] = []
    before: Position | None = None
    for _ in range(len(expected) + 1):  # a cursor that stalls fails, not hangs
        page = await list_for_user(uow_factory, user_id, before, limit)
        assert len(page) <= limit
        seen += page
        if len(page) < limit:
            break
        before = position(page[-1])
    else:
        raise AssertionError("no last page: the cursor does not advance")

    assert seen == expected


async def test_list_for_user_is_strictly_before_the_position(uow_factory: UowFactory) -> None:
    user_id, expected = await populated(uow_factory)

    for i, event in enumerate(expected):
        found = await list_for_user(uow_factory, user_id, position(event), 3)
        assert found == expected[i + 1 : i + 4]


async def test_list_for_user_accepts_positions_that_are_no_event(uow_factory: UowFactory) -> None:
    user_id, expected = await populated(uow_factory)
    between = Position(T0, uuid.UUID(int=1))  # between the first two ties
    older = [e for e in expected if position(e) < between]

    assert await list_for_user(uow_factory, user_id, between, 50) == older
    # The same instant in another offset is the same position.
    shifted = Position(T0.astimezone(PLUS_0530), between.id)
    assert await list_for_user(uow_factory, user_id, shifted, 50) == older
    late = Position(T0 + timedelta(days=9), between.id)
    assert await list_for_user(uow_factory, user_id, late, 50) == expected
    early = Position(T0 - timedelta(days=9), between.id)
    assert await list_for_user(uow_factory, user_id, early, 50) == []


async def test_list_for_user_sees_its_own_transaction_and_not_a_rolled_back_one(
    uow_factory: UowFactory,
) -> None:
    user_id = new_id()
    kept = an_event("user_login", user_id=user_id, occurred_at=T0)
    await record(uow_factory, kept)
    dropped = an_event("user_logout", user_id=user_id, occurred_at=T0 + timedelta(seconds=1))

    async with uow_factory() as uow:
        await uow.events.record(dropped)
        assert await uow.events.list_for_user(user_id, None, 10) == [dropped, kept]

    assert await list_for_user(uow_factory, user_id, None, 10) == [kept]
