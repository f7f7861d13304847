"""LoginThrottle, through the UnitOfWork, for every adapter: states round-trip, writes are
transactional, and concurrent read-modify-writes of one key (from separate units of work,
as from separate processes) lose nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from neodyme_domain.throttling import ThrottleLimits, ThrottleState, register_failure
from tests.contract.conftest import UowFactory

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
KEY = "account:alice@example.com"


def a_state(
    key: str = KEY, *, expires_at: datetime | None = None, locked: bool = True
) -> ThrottleState:
    return ThrottleState(
        key=key,
        window_start=T0,
        failures=3,
        lockouts=2,
        locked_until=T0 + timedelta(minutes=30, microseconds=7) if locked else None,
        expires_at=expires_at or T0 + timedelta(hours=2),
    )


async def put(uow_factory: UowFactory, *states: ThrottleState) -> None:
    async with uow_factory() as uow:
        for state in states:
            await uow.throttle.put(state)
        await uow.commit()


async def get(uow_factory: UowFactory, key: str = KEY) -> ThrottleState | None:
    async with uow_factory() as uow:
        return await uow.throttle.get(key)


async def test_a_key_without_state_reads_as_none(uow_factory: UowFactory) -> None:
    assert await get(uow_factory) is None


async def test_any_recorded_tells_whether_one_of_the_keys_has_a_state(
    uow_factory: UowFactory,
) -> None:
    expired = a_state("address:192.0.2.1", expires_at=T0 - timedelta(hours=1))
    await put(uow_factory, a_state(), expired)

    async with uow_factory() as uow:
        assert await uow.throttle.any_recorded([KEY])
        assert await uow.throttle.any_recorded(["account:bob@example.com", KEY])
        assert await uow.throttle.any_recorded([expired.key])  # expired still counts
        assert not await uow.throttle.any_recorded(["account:bob@example.com"])
        assert not await uow.throttle.any_recorded([])


@pytest.mark.parametrize("locked", [True, False])
async def test_a_state_round_trips_every_field(uow_factory: UowFactory, locked: bool) -> None:
    state = a_state(locked=locked)

    await put(uow_factory, state)

    found = await get(uow_factory)
    assert found == state
    assert found is not None
    assert found.window_start.tzinfo is not None
    assert found.expires_at.utcoffset() == timedelta(0)


async def test_keys_are_kept_apart_and_may_be_long(uow_factory: UowFactory) -> None:
    long_key = "account:" + "a" * 64 + "@" + "b" * 180 + ".example.com"
    await put(uow_factory, a_state(), a_state("address:2001:db8::/64"), a_state(long_key))

    assert (await get(uow_factory, "address:2001:db8::/64")) == a_state("address:2001:db8::/64")
    assert (await get(uow_factory, long_key)) == a_state(long_key)
    assert await get(uow_factory, "account:ALICE@example.com") is None  # keys are exact


async def test_put_replaces_the_previous_state(uow_factory: UowFactory) -> None:
    await put(uow_factory, a_state())
    newer = ThrottleState(KEY, T0 + timedelta(hours=1), 1, 0, None, T0 + timedelta(hours=3))

    await put(uow_factory, newer)

    assert await get(uow_factory) == newer


async def test_delete_forgets_the_key_and_is_harmless_without_one(uow_factory: UowFactory) -> None:
    await put(uow_factory, a_state(), a_state("address:203.0.113.9"))

    async with uow_factory() as uow:
        await uow.throttle.delete(KEY)
        await uow.throttle.delete("account:never@example.com")
        await uow.commit()

    assert await get(uow_factory) is None
    assert await get(uow_factory, "address:203.0.113.9") is not None


async def test_writes_that_are_not_committed_are_forgotten(uow_factory: UowFactory) -> None:
    await put(uow_factory, a_state("address:203.0.113.9"))

    async with uow_factory() as uow:
        await uow.throttle.put(a_state())
        await uow.throttle.delete("address:203.0.113.9")
        assert await uow.throttle.get(KEY) == a_state()  # visible inside the transaction

    assert await get(uow_factory) is None
    assert await get(uow_factory, "address:203.0.113.9") is not None


async def test_purge_deletes_exactly_the_expired_states(uow_factory: UowFactory) -> None:
    now = T0 + timedelta(hours=1)
    await put(
        uow_factory,
        a_state("account:old@example.com", expires_at=now - timedelta(seconds=1)),
        a_state("account:due@example.com", expires_at=now),
        a_state("account:live@example.com", expires_at=now + timedelta(microseconds=1)),
    )

    async with uow_factory() as uow:
        purged = await uow.throttle.purge_expired(now)
        await uow.commit()

    assert purged == 2
    assert await get(uow_factory, "account:old@example.com") is None
    assert await get(uow_factory, "account:due@example.com") is None
    assert await get(uow_factory, "account:live@example.com") is not None


# --- concurrency ---------------------------------------------------------------------------


async def record_failure(uow_factory: UowFactory, limits: ThrottleLimits, now: datetime) -> None:
    async with uow_factory() as uow:
        state = await uow.throttle.get(KEY)
        # Yield while holding the state: any transaction that read it meanwhile would
        # overwrite this one's count, unless the store serialises the read-modify-writes.
        await asyncio.sleep(0)
        await uow.throttle.put(register_failure(state, KEY, now, limits))
        await uow.commit()


async def test_twenty_concurrent_failures_of_a_new_key_are_all_counted(
    uow_factory: UowFactory,
) -> None:
    limits = ThrottleLimits(max_failures=100)

    await asyncio.gather(*(record_failure(uow_factory, limits, T0) for _ in range(20)))

    state = await get(uow_factory)
    assert state is not None
    assert (state.failures, state.lockouts) == (20, 0)


async def test_twenty_concurrent_failures_trigger_the_lockout_exactly_once(
    uow_factory: UowFactory,
) -> None:
    limits = ThrottleLimits(max_failures=5)
    await put(uow_factory, register_failure(None, KEY, T0, limits))  # an existing row this time

    await asyncio.gather(*(record_failure(uow_factory, limits, T0) for _ in range(20)))

    state = await get(uow_factory)
    assert state is not None
    assert state.lockouts == 1
    assert state.locked_until == T0 + limits.first_lockout
