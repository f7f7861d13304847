"""EventRecorder, through the UnitOfWork, for every adapter. The protocol is write-only, so
``read_events`` (from the conftest) reads what each adapter committed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from neodyme_domain.model import new_id
from tests.contract.conftest import EventReader, UowFactory
from tests.support.builders import an_event, utc_now


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
    assert str(found.data["family"]) == str(family)


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
