"""What the operator sees of the outbox (``OutboxStatus``) and how they put e-mails back in
the queue once the mail path is fixed (``RetryOutbox``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase, RecordingNotifier
from neodyme_domain.use_cases import (
    DeliverOutbox,
    Delivery,
    OutboxBacklog,
    OutboxStatus,
    RegisterCommand,
    Registered,
    RegisterUser,
    RetryOutbox,
)
from tests.unit.domain.helpers import PASSWORD

SMTP_DOWN = ConnectionRefusedError("SMTP server unreachable")


@pytest.fixture
def status(database: MemoryDatabase) -> OutboxStatus:
    return OutboxStatus(uow=InMemoryUnitOfWork(database, read_only=True))


@pytest.fixture
def retry(database: MemoryDatabase, clock: ManualClock) -> RetryOutbox:
    return RetryOutbox(uow=InMemoryUnitOfWork(database), clock=clock)


@pytest.fixture
def deliver(
    database: MemoryDatabase, notifier: RecordingNotifier, clock: ManualClock
) -> DeliverOutbox:
    """Two attempts, then the e-mail is given up."""
    return DeliverOutbox(
        uow=InMemoryUnitOfWork(database), notifier=notifier, clock=clock, max_attempts=2
    )


async def register(register_user: RegisterUser, clock: ManualClock, name: str) -> Registered:
    registered = await register_user(RegisterCommand(f"{name}@example.com", name, PASSWORD))
    clock.advance(timedelta(seconds=1))
    return registered


async def test_an_empty_outbox_has_no_backlog(status: OutboxStatus) -> None:
    assert await status() == OutboxBacklog(pending=0, failing=0, dead=0, oldest_pending_at=None)


async def test_the_backlog_counts_pending_failing_and_dead_and_dates_the_oldest_pending(
    register_user: RegisterUser,
    deliver: DeliverOutbox,
    notifier: RecordingNotifier,
    status: OutboxStatus,
    clock: ManualClock,
) -> None:
    first_queued = clock.now()
    await register(register_user, clock, "dies")
    notifier.failure = SMTP_DOWN
    await deliver()  # attempt 1 of "dies"
    clock.advance(timedelta(minutes=1))
    await register(register_user, clock, "fails")
    await deliver()  # attempt 2 of "dies" (dead), attempt 1 of "fails"
    await register(register_user, clock, "waits")

    backlog = await status()

    assert backlog == OutboxBacklog(
        pending=2,  # "fails" and "waits"; a dead e-mail is not pending
        failing=1,  # "fails"
        dead=1,  # "dies"
        oldest_pending_at=first_queued + timedelta(minutes=1, seconds=1),  # "fails"
    )


async def test_sent_emails_leave_the_backlog(
    alice: Registered, deliver: DeliverOutbox, status: OutboxStatus
) -> None:
    await deliver()

    assert await status() == OutboxBacklog(pending=0, failing=0, dead=0, oldest_pending_at=None)


async def test_retry_makes_failing_emails_due_now_instead_of_after_their_backoff(
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
    notifier: RecordingNotifier,
    clock: ManualClock,
    retry: RetryOutbox,
) -> None:
    deliver = DeliverOutbox(uow=InMemoryUnitOfWork(database), notifier=notifier, clock=clock)
    notifier.failure = SMTP_DOWN
    await deliver()
    notifier.failure = None
    assert await deliver() == Delivery(sent=0, failed=0), "both wait for their retry"
    clock.advance(timedelta(seconds=1))  # their retry is a second away still

    assert await retry() == 2
    assert [entry.next_attempt_at for entry in database.outbox] == [clock.now()] * 2

    assert await deliver() == Delivery(sent=2, failed=0)
    assert sorted(m.to for m in notifier.sent) == ["alice@example.com", "bob@example.com"]
    assert await retry() == 0, "nothing is failing any more"


async def test_retry_leaves_dead_emails_alone_unless_asked_and_then_gives_a_full_budget(
    alice: Registered,
    deliver: DeliverOutbox,
    notifier: RecordingNotifier,
    status: OutboxStatus,
    clock: ManualClock,
    retry: RetryOutbox,
) -> None:
    notifier.failure = SMTP_DOWN
    for _ in range(2):
        await deliver()
        clock.advance(timedelta(minutes=1))
    assert (await status()).dead == 1

    assert await retry() == 0
    assert (await status()).dead == 1

    assert await retry(dead=True) == 1
    assert await status() == OutboxBacklog(
        pending=1, failing=0, dead=0, oldest_pending_at=alice.user.created_at
    )
    # Attempts start again from zero: one failure does not kill it (max_attempts=2).
    assert (await deliver()).dead == ()
    notifier.failure = None
    clock.advance(timedelta(minutes=1))
    assert await deliver() == Delivery(sent=1, failed=0)
    assert [m.to for m in notifier.sent] == ["alice@example.com"]
