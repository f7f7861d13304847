"""The welcome e-mail: a failing mail server never fails a registration, and never loses
the e-mail. The outbox keeps it and DeliverOutbox retries with a growing, capped delay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase, RecordingNotifier
from neodyme_domain import EmailMessage
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    DeadLetter,
    DeliverOutbox,
    Delivery,
    RegisterCommand,
    Registered,
    RegisterUser,
)
from neodyme_domain.use_cases.deliver_outbox import MAX_ATTEMPTS, backoff
from tests.unit.domain.helpers import PASSWORD, stored_user

SMTP_DOWN = ConnectionRefusedError("SMTP server unreachable")
DOWN = "ConnectionRefusedError: SMTP server unreachable"
DOWN_ONCE = Delivery(sent=0, failed=1, last_error=DOWN)


async def test_delivery_sends_the_welcome_email_once(
    alice: Registered, deliver_outbox: DeliverOutbox, notifier: RecordingNotifier
) -> None:
    assert await deliver_outbox() == Delivery(sent=1, failed=0)
    assert await deliver_outbox() == Delivery(sent=0, failed=0)

    [welcome] = notifier.sent
    assert welcome.kind == "welcome"
    assert welcome.to == "alice@example.com"
    assert welcome.data["user_name"] == "Alice Liddell"


async def test_delivery_marks_the_entry_sent(
    alice: Registered, deliver_outbox: DeliverOutbox, database: MemoryDatabase, clock: ManualClock
) -> None:
    await deliver_outbox()

    [entry] = database.outbox
    assert entry.sent_at == clock.now()
    assert entry.attempts == 0
    assert entry.last_error is None


async def test_registration_succeeds_while_the_mail_server_is_down(
    register_user: RegisterUser,
    authenticate_user: AuthenticateUser,
    notifier: RecordingNotifier,
    database: MemoryDatabase,
) -> None:
    notifier.failure = SMTP_DOWN

    registered = await register_user(RegisterCommand("jane@example.com", "Jane Doe", PASSWORD))

    assert await stored_user(database, registered.user.id) == registered.user
    [entry] = database.outbox
    assert entry.sent_at is None
    logged_in = await authenticate_user(AuthenticateCommand("jane@example.com", PASSWORD))
    assert logged_in.user.id == registered.user.id


async def test_failed_email_is_kept_retried_after_backoff_and_sent_exactly_once(
    alice: Registered,
    deliver_outbox: DeliverOutbox,
    notifier: RecordingNotifier,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    notifier.failure = SMTP_DOWN

    assert await deliver_outbox() == DOWN_ONCE

    # The registration stands; the e-mail waits with its failure counted.
    assert await stored_user(database, alice.user.id) is not None
    [entry] = database.outbox
    assert entry.sent_at is None
    assert entry.attempts == 1
    assert entry.last_error == "ConnectionRefusedError: SMTP server unreachable"
    assert entry.next_attempt_at is not None
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=2)
    assert notifier.sent == []

    # Before the retry time nothing is attempted, even with the server back.
    notifier.failure = None
    assert await deliver_outbox() == Delivery(sent=0, failed=0)
    assert notifier.attempts == 1

    clock.advance(entry.next_attempt_at - clock.now() + timedelta(seconds=1))
    assert await deliver_outbox() == Delivery(sent=1, failed=0)
    assert await deliver_outbox() == Delivery(sent=0, failed=0)

    assert [m.to for m in notifier.sent] == ["alice@example.com"]
    [entry] = database.outbox
    assert entry.sent_at == clock.now()
    assert entry.attempts == 1
    assert entry.last_error is None


async def test_each_further_failure_doubles_the_wait(
    alice: Registered,
    deliver_outbox: DeliverOutbox,
    notifier: RecordingNotifier,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    notifier.failure = SMTP_DOWN
    waits = []
    for _ in range(4):
        await deliver_outbox()
        [entry] = database.outbox
        assert entry.next_attempt_at is not None
        waits.append(entry.next_attempt_at - clock.now())
        clock.advance(waits[-1])

    assert waits == [timedelta(seconds=s) for s in (2, 4, 8, 16)]
    assert database.outbox[0].attempts == 4


async def test_a_long_outage_is_retried_at_the_ceiling_without_crashing_the_dispatcher(
    alice: Registered,
    deliver_outbox: DeliverOutbox,
    notifier: RecordingNotifier,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    # Regression: past ~47 attempts the delay computation overflowed timedelta.
    notifier.failure = SMTP_DOWN
    for _ in range(60):
        assert await deliver_outbox() == DOWN_ONCE
        clock.advance(timedelta(minutes=10))

    [entry] = database.outbox
    assert entry.attempts == 60
    assert entry.next_attempt_at == clock.now()  # last failure + the 10-minute ceiling

    notifier.failure = None
    assert await deliver_outbox() == Delivery(sent=1, failed=0)
    assert len(notifier.sent) == 1


async def test_a_claimed_entry_is_not_taken_again_while_its_lease_runs(
    alice: Registered,
    database: MemoryDatabase,
    notifier: RecordingNotifier,
    clock: ManualClock,
) -> None:
    # A dispatcher that claimed an entry and died before recording the outcome.
    async with InMemoryUnitOfWork(database) as uow:
        [claimed] = await uow.outbox.claim_due(clock.now(), 10, timedelta(seconds=60))
        await uow.commit()
    deliver = DeliverOutbox(uow=InMemoryUnitOfWork(database), notifier=notifier, clock=clock)

    assert await deliver() == Delivery(sent=0, failed=0)
    clock.advance(timedelta(seconds=61))
    assert await deliver() == Delivery(sent=1, failed=0)
    assert [m.data["user_id"] for m in notifier.sent] == [claimed.message.data["user_id"]]


async def test_one_failing_email_does_not_hold_back_the_others(
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    class RefusesAlice(RecordingNotifier):
        async def send(self, message: EmailMessage) -> None:
            if message.to == "alice@example.com":
                self.attempts += 1
                raise SMTP_DOWN
            await super().send(message)

    notifier = RefusesAlice()
    deliver = DeliverOutbox(uow=InMemoryUnitOfWork(database), notifier=notifier, clock=clock)

    assert await deliver() == Delivery(sent=1, failed=1, last_error=DOWN)
    assert [m.to for m in notifier.sent] == ["bob@example.com"]


class SlowMailServer(RecordingNotifier):
    """Each send takes ``seconds`` on the test's clock."""

    def __init__(self, clock: ManualClock, seconds: int) -> None:
        super().__init__()
        self._clock = clock
        self._send_time = timedelta(seconds=seconds)

    async def send(self, message: EmailMessage) -> None:
        self._clock.advance(self._send_time)
        await super().send(message)


def leasing_for_a_minute(
    database: MemoryDatabase, notifier: RecordingNotifier, clock: ManualClock
) -> DeliverOutbox:
    return DeliverOutbox(
        uow=InMemoryUnitOfWork(database),
        notifier=notifier,
        clock=clock,
        lease=timedelta(seconds=60),
    )


async def test_sending_stops_at_half_the_lease_so_no_other_dispatcher_sends_the_rest_too(
    alice: Registered,
    bob: Registered,
    admin: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    notifier = SlowMailServer(clock, seconds=20)
    deliver = leasing_for_a_minute(database, notifier, clock)

    # Two sends take 40 s: the third would start past half the 60 s lease.
    assert await deliver() == Delivery(sent=2, failed=0)
    # The third stays leased (not re-sent, not marked) until the lease runs out.
    assert await deliver() == Delivery(sent=0, failed=0)
    clock.advance(timedelta(seconds=21))
    assert await deliver() == Delivery(sent=1, failed=0)
    assert sorted(m.to for m in notifier.sent) == [
        "admin@example.com",
        "alice@example.com",
        "bob@example.com",
    ]


async def test_a_send_that_ends_at_exactly_half_the_lease_is_the_last_of_the_round(
    alice: Registered, bob: Registered, database: MemoryDatabase, clock: ManualClock
) -> None:
    notifier = SlowMailServer(clock, seconds=30)
    deliver = leasing_for_a_minute(database, notifier, clock)

    assert await deliver() == Delivery(sent=1, failed=0)
    assert len(notifier.sent) == 1


async def test_every_failure_of_a_round_is_counted(
    alice: Registered,
    bob: Registered,
    deliver_outbox: DeliverOutbox,
    notifier: RecordingNotifier,
) -> None:
    notifier.failure = SMTP_DOWN

    assert await deliver_outbox() == Delivery(sent=0, failed=2, last_error=DOWN)


async def test_a_round_takes_at_most_fifty_emails_by_default(
    deliver_outbox: DeliverOutbox,
    notifier: RecordingNotifier,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    async with InMemoryUnitOfWork(database) as uow:
        for n in range(51):
            await uow.outbox.add(
                EmailMessage("note", f"user{n}@example.com", "Hi", "..."), clock.now()
            )
        await uow.commit()

    assert await deliver_outbox() == Delivery(sent=50, failed=0, more_due=True)
    assert await deliver_outbox() == Delivery(sent=1, failed=0, more_due=False)
    assert len({m.to for m in notifier.sent}) == 51


# --- backoff -------------------------------------------------------------------------------

BASE = timedelta(seconds=2)
CEILING = timedelta(minutes=10)


def test_backoff_starts_at_the_base_and_doubles() -> None:
    assert [backoff(n, BASE, CEILING) for n in (1, 2, 3, 4, 5)] == [
        timedelta(seconds=s) for s in (2, 4, 8, 16, 32)
    ]


def test_backoff_never_goes_below_the_base() -> None:
    assert backoff(0, BASE, CEILING) == BASE
    assert backoff(-3, BASE, CEILING) == BASE


def test_backoff_grows_monotonically_up_to_the_ceiling() -> None:
    delays = [backoff(n, BASE, CEILING) for n in range(1, 40)]

    assert delays == sorted(delays)
    assert max(delays) == CEILING
    assert delays[-1] == CEILING


@pytest.mark.parametrize("attempts", [47, 48, 64, 100, 10_000])
def test_backoff_is_capped_however_many_attempts_failed(attempts: int) -> None:
    assert backoff(attempts, BASE, CEILING) == CEILING


def test_backoff_caps_at_a_ceiling_below_the_base() -> None:
    assert backoff(1, timedelta(minutes=5), timedelta(minutes=1)) == timedelta(minutes=1)


@pytest.mark.parametrize("base", [timedelta(hours=6), timedelta(days=30)])
def test_backoff_never_overflows_however_long_the_base(base: timedelta) -> None:
    # Regression: the exponent was clamped at 32 doublings, and 2**32 times a base of
    # six hours is past what a timedelta holds: the dispatcher crashed on attempt 34.
    ceiling = base * 4
    assert backoff(10_000, base, ceiling) == ceiling
    assert backoff(3, base, ceiling) == ceiling
    assert backoff(2, base, ceiling) == base * 2


async def test_a_round_that_fills_its_batch_says_more_may_be_due(
    alice: Registered,
    bob: Registered,
    admin: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
    notifier: RecordingNotifier,
) -> None:
    deliver = DeliverOutbox(
        uow=InMemoryUnitOfWork(database), notifier=notifier, clock=clock, batch_size=2
    )

    assert await deliver() == Delivery(sent=2, failed=0, more_due=True)
    assert await deliver() == Delivery(sent=1, failed=0, more_due=False)
    assert len(notifier.sent) == 3


# --- dead letters --------------------------------------------------------------------------


def giving_up_after(
    max_attempts: int, database: MemoryDatabase, notifier: RecordingNotifier, clock: ManualClock
) -> DeliverOutbox:
    return DeliverOutbox(
        uow=InMemoryUnitOfWork(database), notifier=notifier, clock=clock, max_attempts=max_attempts
    )


async def test_an_email_whose_last_allowed_attempt_fails_is_dead_and_never_tried_again(
    alice: Registered,
    database: MemoryDatabase,
    notifier: RecordingNotifier,
    clock: ManualClock,
) -> None:
    notifier.failure = SMTP_DOWN
    deliver = giving_up_after(3, database, notifier, clock)
    [queued] = database.outbox

    rounds = []
    for _ in range(3):
        rounds.append(await deliver())
        clock.advance(timedelta(minutes=10))

    assert rounds[:2] == [DOWN_ONCE, DOWN_ONCE]
    assert rounds[2] == Delivery(
        sent=0,
        failed=1,
        last_error=DOWN,
        dead=(DeadLetter(queued.id, "welcome", "example.com", 3, DOWN),),
    )
    [entry] = database.outbox
    assert entry.dead_at is not None
    assert entry.attempts == 3
    assert entry.sent_at is None
    assert entry.last_error == DOWN

    # The mail server is back and days pass: a dead e-mail stays where it is.
    notifier.failure = None
    clock.advance(timedelta(days=3))
    assert await deliver() == Delivery(sent=0, failed=0)
    assert notifier.attempts == 3
    assert notifier.sent == []


async def test_with_one_attempt_allowed_the_first_failure_gives_up(
    alice: Registered,
    database: MemoryDatabase,
    notifier: RecordingNotifier,
    clock: ManualClock,
) -> None:
    notifier.failure = SMTP_DOWN
    deliver = giving_up_after(1, database, notifier, clock)

    delivery = await deliver()

    assert [letter.attempts for letter in delivery.dead] == [1]
    assert database.outbox[0].dead_at == clock.now()


async def test_a_dead_letter_names_the_domain_after_the_last_at_sign(
    database: MemoryDatabase, notifier: RecordingNotifier, clock: ManualClock
) -> None:
    quoted = EmailMessage("note", '"first@last"@example.org', "Hi", "...")  # RFC 5321 allows it
    async with InMemoryUnitOfWork(database) as uow:
        await uow.outbox.add(quoted, clock.now())
        await uow.commit()
    notifier.failure = SMTP_DOWN

    delivery = await giving_up_after(1, database, notifier, clock)()

    assert [letter.recipient_domain for letter in delivery.dead] == ["example.org"]


def test_at_least_one_attempt_is_required(
    database: MemoryDatabase, notifier: RecordingNotifier, clock: ManualClock
) -> None:
    with pytest.raises(ValueError, match=r"^max_attempts must be at least 1$"):
        giving_up_after(0, database, notifier, clock)


def test_the_retry_delay_must_be_positive(
    database: MemoryDatabase, notifier: RecordingNotifier, clock: ManualClock
) -> None:
    with pytest.raises(ValueError, match=r"^retry_base must be positive$"):
        DeliverOutbox(
            uow=InMemoryUnitOfWork(database),
            notifier=notifier,
            clock=clock,
            retry_base=timedelta(0),
        )


def test_the_default_attempts_span_about_three_days_of_default_backoff() -> None:
    waits = sum((backoff(n, BASE, CEILING) for n in range(1, MAX_ATTEMPTS)), start=timedelta())

    assert timedelta(days=2, hours=23) < waits < timedelta(days=3, hours=1)
