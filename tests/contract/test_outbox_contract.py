"""Outbox, through the UnitOfWork, for every adapter. State is read back only through the
protocol: ``claim_due`` at a chosen time shows what is due then."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from neodyme_domain.messages import EmailMessage, OutboxBacklog, OutboxEntry
from tests.contract.conftest import UowFactory
from tests.support.builders import a_message

T0 = datetime(2024, 6, 1, 12, 0, 0, 250000, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def add(uow_factory: UowFactory, message: EmailMessage, at: datetime) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(message, at)
        await uow.commit()


async def claim(
    uow_factory: UowFactory, now: datetime, limit: int = 100, lease: timedelta = LEASE
) -> list[OutboxEntry]:
    async with uow_factory() as uow:
        entries = await uow.outbox.claim_due(now, limit, lease)
        await uow.commit()
    return entries


async def test_add_is_rolled_back_with_its_transaction(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(a_message(), T0)

    assert await claim(uow_factory, T0 + timedelta(days=1)) == []


async def test_added_message_is_claimed_with_its_content_and_bookkeeping(
    uow_factory: UowFactory,
) -> None:
    message = a_message("grace@example.com", kind="welcome", user_name="Grace", user_id="42")
    await add(uow_factory, message, T0)

    [entry] = await claim(uow_factory, T0)

    assert entry.message == message
    assert entry.created_at == T0
    assert entry.attempts == 0
    assert entry.sent_at is None
    assert entry.last_error is None
    # Returned as it was before the claim pushed it: due at the time it was queued.
    assert entry.next_attempt_at == T0


async def test_claim_due_returns_due_entries_oldest_first(uow_factory: UowFactory) -> None:
    for offset, to in [(2, "c@example.com"), (0, "a@example.com"), (1, "b@example.com")]:
        await add(uow_factory, a_message(to), T0 + timedelta(seconds=offset))

    entries = await claim(uow_factory, T0 + timedelta(seconds=5))

    assert [entry.message.to for entry in entries] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]


async def test_claim_due_returns_at_most_limit_entries(uow_factory: UowFactory) -> None:
    for offset in range(5):
        await add(uow_factory, a_message(f"u{offset}@example.com"), T0 + timedelta(seconds=offset))

    first = await claim(uow_factory, T0 + timedelta(minutes=1), limit=2)
    rest = await claim(uow_factory, T0 + timedelta(minutes=1), limit=10)

    assert [entry.message.to for entry in first] == ["u0@example.com", "u1@example.com"]
    assert [entry.message.to for entry in rest] == [f"u{i}@example.com" for i in (2, 3, 4)]


async def test_entries_queued_for_later_are_not_due_yet(uow_factory: UowFactory) -> None:
    await add(uow_factory, a_message(), T0 + timedelta(minutes=10))

    assert await claim(uow_factory, T0) == []
    assert len(await claim(uow_factory, T0 + timedelta(minutes=10))) == 1


async def test_claimed_entries_are_hidden_for_the_lease(uow_factory: UowFactory) -> None:
    await add(uow_factory, a_message(), T0)
    [claimed] = await claim(uow_factory, T0, lease=LEASE)

    assert await claim(uow_factory, T0 + LEASE - timedelta(microseconds=1)) == []
    [again] = await claim(uow_factory, T0 + LEASE)
    assert again.id == claimed.id
    assert again.next_attempt_at == T0 + LEASE


async def test_a_claim_that_is_not_committed_hides_nothing(uow_factory: UowFactory) -> None:
    await add(uow_factory, a_message(), T0)
    async with uow_factory() as uow:
        assert len(await uow.outbox.claim_due(T0, 10, LEASE)) == 1

    assert len(await claim(uow_factory, T0)) == 1


async def test_mark_sent_removes_the_entry_from_future_claims(uow_factory: UowFactory) -> None:
    await add(uow_factory, a_message("sent@example.com"), T0)
    await add(uow_factory, a_message("pending@example.com"), T0 + timedelta(seconds=1))
    [sent, _pending] = await claim(uow_factory, T0 + timedelta(seconds=1))

    async with uow_factory() as uow:
        await uow.outbox.mark_sent(sent.id, T0 + timedelta(seconds=2))
        await uow.commit()

    later = await claim(uow_factory, T0 + timedelta(days=1))
    assert [entry.message.to for entry in later] == ["pending@example.com"]


async def test_mark_failed_counts_the_attempt_keeps_the_error_and_delays(
    uow_factory: UowFactory,
) -> None:
    await add(uow_factory, a_message(), T0)
    [entry] = await claim(uow_factory, T0)
    retry_at = T0 + timedelta(seconds=10)

    async with uow_factory() as uow:
        await uow.outbox.mark_failed(entry.id, "SMTPConnectError: refused", retry_at)
        await uow.commit()

    assert await claim(uow_factory, retry_at - timedelta(microseconds=1)) == []
    [retried] = await claim(uow_factory, retry_at)
    assert retried.id == entry.id
    assert retried.attempts == 1
    assert retried.last_error == "SMTPConnectError: refused"
    assert retried.next_attempt_at == retry_at

    async with uow_factory() as uow:
        await uow.outbox.mark_failed(entry.id, "again", retry_at + timedelta(seconds=20))
        await uow.commit()
    [third] = await claim(uow_factory, retry_at + timedelta(seconds=20))
    assert third.attempts == 2
    assert third.last_error == "again"


async def test_concurrent_claims_never_return_the_same_entry(uow_factory: UowFactory) -> None:
    for offset in range(12):
        await add(uow_factory, a_message(f"u{offset}@example.com"), T0 + timedelta(seconds=offset))
    now = T0 + timedelta(minutes=1)

    batches = await asyncio.gather(*(claim(uow_factory, now, limit=12) for _ in range(4)))

    claimed = [entry.id for batch in batches for entry in batch]
    assert len(claimed) == len(set(claimed)) == 12
    assert await claim(uow_factory, now) == []


async def fail(uow_factory: UowFactory, entry: OutboxEntry, retry_at: datetime) -> None:
    async with uow_factory() as uow:
        await uow.outbox.mark_failed(entry.id, "SMTPConnectError: refused", retry_at)
        await uow.commit()


async def kill(uow_factory: UowFactory, entry: OutboxEntry, at: datetime) -> None:
    async with uow_factory() as uow:
        await uow.outbox.mark_dead(entry.id, "SMTPConnectError: refused for good", at)
        await uow.commit()


async def backlog(uow_factory: UowFactory) -> OutboxBacklog:
    async with uow_factory() as uow:
        return await uow.outbox.backlog()


async def requeue(uow_factory: UowFactory, now: datetime, *, include_dead: bool) -> int:
    async with uow_factory() as uow:
        requeued = await uow.outbox.requeue(now, include_dead=include_dead)
        await uow.commit()
    return requeued


async def test_a_dead_entry_counts_its_last_attempt_and_is_never_claimed_again(
    uow_factory: UowFactory,
) -> None:
    await add(uow_factory, a_message("dead@example.com"), T0)
    await add(uow_factory, a_message("alive@example.com"), T0 + timedelta(seconds=1))
    [dead, _alive] = await claim(uow_factory, T0 + timedelta(seconds=1))

    await kill(uow_factory, dead, T0 + timedelta(seconds=2))

    later = await claim(uow_factory, T0 + timedelta(days=30))
    assert [entry.message.to for entry in later] == ["alive@example.com"]


async def test_an_empty_outbox_has_no_backlog(uow_factory: UowFactory) -> None:
    assert await backlog(uow_factory) == OutboxBacklog(
        pending=0, failing=0, dead=0, oldest_pending_at=None
    )


async def test_the_backlog_counts_unsent_entries_by_state(uow_factory: UowFactory) -> None:
    for offset, to in enumerate(["sent", "dead", "failing", "fresh"]):
        await add(uow_factory, a_message(f"{to}@example.com"), T0 + timedelta(seconds=offset))
    sent, dead, failing, _fresh = await claim(uow_factory, T0 + timedelta(seconds=3))
    async with uow_factory() as uow:
        await uow.outbox.mark_sent(sent.id, T0 + timedelta(seconds=4))
        await uow.commit()
    await kill(uow_factory, dead, T0 + timedelta(seconds=4))
    await fail(uow_factory, failing, T0 + timedelta(minutes=5))

    assert await backlog(uow_factory) == OutboxBacklog(
        pending=2,
        failing=1,
        dead=1,
        oldest_pending_at=T0 + timedelta(seconds=2),  # "failing": sent and dead are not pending
    )


async def test_requeue_makes_failing_entries_due_now_and_leaves_the_others(
    uow_factory: UowFactory,
) -> None:
    await add(uow_factory, a_message("failing@example.com"), T0)
    await add(uow_factory, a_message("dead@example.com"), T0 + timedelta(seconds=1))
    await add(uow_factory, a_message("later@example.com"), T0 + timedelta(hours=1))
    failing, dead = await claim(uow_factory, T0 + timedelta(seconds=1))
    await fail(uow_factory, failing, T0 + timedelta(hours=2))
    await kill(uow_factory, dead, T0)
    now = T0 + timedelta(minutes=1)

    assert await requeue(uow_factory, now, include_dead=False) == 1

    [due] = await claim(uow_factory, now)
    assert due.message.to == "failing@example.com"
    assert due.attempts == 1, "its attempts are kept"
    assert (await backlog(uow_factory)).dead == 1


async def test_requeue_with_dead_revives_them_with_their_attempts_reset(
    uow_factory: UowFactory,
) -> None:
    await add(uow_factory, a_message("dead@example.com"), T0)
    [dead] = await claim(uow_factory, T0)
    await fail(uow_factory, dead, T0 + timedelta(seconds=1))
    [dead] = await claim(uow_factory, T0 + timedelta(seconds=1))
    await kill(uow_factory, dead, T0 + timedelta(seconds=2))
    now = T0 + timedelta(days=1)

    assert await requeue(uow_factory, now, include_dead=True) == 1

    assert await backlog(uow_factory) == OutboxBacklog(
        pending=1, failing=0, dead=0, oldest_pending_at=T0
    )
    [revived] = await claim(uow_factory, now)
    assert revived.id == dead.id
    assert revived.attempts == 0
    assert revived.last_error == "SMTPConnectError: refused for good"
    assert revived.next_attempt_at == now


async def test_requeue_never_touches_sent_entries(uow_factory: UowFactory) -> None:
    await add(uow_factory, a_message(), T0)
    [entry] = await claim(uow_factory, T0)
    await fail(uow_factory, entry, T0 + timedelta(seconds=1))
    [entry] = await claim(uow_factory, T0 + timedelta(seconds=1))
    async with uow_factory() as uow:
        await uow.outbox.mark_sent(entry.id, T0 + timedelta(seconds=2))
        await uow.commit()

    assert await requeue(uow_factory, T0 + timedelta(seconds=3), include_dead=True) == 0
    assert await claim(uow_factory, T0 + timedelta(days=1)) == []


async def test_a_requeue_that_is_not_committed_changes_nothing(uow_factory: UowFactory) -> None:
    await add(uow_factory, a_message(), T0)
    [entry] = await claim(uow_factory, T0)
    await kill(uow_factory, entry, T0)
    async with uow_factory() as uow:
        assert await uow.outbox.requeue(T0, include_dead=True) == 1

    assert (await backlog(uow_factory)).dead == 1
