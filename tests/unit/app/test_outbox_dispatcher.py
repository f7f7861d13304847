"""The e-mail dispatcher's loop: it drains what is due, leaves failures for a later run, and
reports a database outage in two lines (when it starts and when it ends), not a traceback
at every poll. A mail outage is told the same way (start, reminders, recovery) with its
reason and the pending count, and every e-mail given up gets one ERROR line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import aiosmtplib
import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase, RecordingNotifier
from neodyme_app.outbox_dispatcher import OutboxDispatcher
from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.messages import EmailMessage
from neodyme_domain.use_cases import DeliverOutbox, Delivery, OutboxStatus
from tests.unit.http.conftest import eventually


class Rounds:
    """Stands in for DeliverOutbox: each call is a round, answered from a script (then:
    nothing to do)."""

    def __init__(self, *script: Delivery | Exception) -> None:
        self.script = list(script)
        self.calls = 0

    async def __call__(self) -> Delivery:
        self.calls += 1
        outcome = self.script.pop(0) if self.script else Delivery(sent=0, failed=0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def no_status() -> OutboxStatus:
    raise AssertionError("the backlog is read only when delivery failed")


async def test_drain_continues_while_full_batches_go_out() -> None:
    rounds = Rounds(
        Delivery(sent=50, failed=0, more_due=True),
        Delivery(sent=49, failed=1, more_due=True),
        Delivery(sent=3, failed=0),
        Delivery(sent=7, failed=0),
    )

    assert await OutboxDispatcher.drain(lambda: rounds) == 102
    assert rounds.calls == 3, "a batch that was not full leaves nothing due: no extra round"


async def test_drain_stops_after_a_round_that_sent_nothing() -> None:
    # The mail server is down: the failures are rescheduled, not retried in a tight loop.
    rounds = Rounds(*[Delivery(sent=0, failed=5, more_due=True)] * 100)

    assert await OutboxDispatcher.drain(lambda: rounds) == 0
    assert rounds.calls == 1


async def test_a_database_outage_is_logged_when_it_starts_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = ServiceUnavailable(context={"cause": "timeout"})
    rounds = Rounds(down, down, down, Delivery(sent=1, failed=0))
    dispatcher = OutboxDispatcher(poll_seconds=0.001)
    with caplog.at_level(logging.INFO, logger="neodyme.outbox"):
        dispatcher.start(lambda: rounds, status=no_status)
        await eventually(lambda: rounds.calls >= 6)  # past the outage, and two polls on
        await dispatcher.stop()

    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "outbox delivery paused: the database is unavailable",
        "outbox delivery resumed: the database is back",
    ]
    assert all(record.exc_info is None for record in caplog.records)


# --- mail delivery failures, as the operator reads them --------------------------------------

REFUSED = aiosmtplib.SMTPException("SMTP STARTTLS extension not supported by server.")
REASON = "SMTPException: SMTP STARTTLS extension not supported by server."
SECRET_BODY = "the body with a reset link https://app.test/reset?token=s3cr3t"


class Outbox:
    """A dispatcher on an in-memory outbox, its mail server (a RecordingNotifier) and a
    clock the test moves; ``round()`` is one wake-up of the dispatcher."""

    def __init__(self, max_attempts: int = 440) -> None:
        self.database = MemoryDatabase()
        self.clock = ManualClock(T0)
        self.notifier = RecordingNotifier()
        self.dispatcher = OutboxDispatcher(poll_seconds=5, clock=self.clock)
        self.max_attempts = max_attempts

    def deliver(self) -> DeliverOutbox:
        return DeliverOutbox(
            uow=InMemoryUnitOfWork(self.database),
            notifier=self.notifier,
            clock=self.clock,
            max_attempts=self.max_attempts,
        )

    def status(self) -> OutboxStatus:
        return OutboxStatus(uow=InMemoryUnitOfWork(self.database, read_only=True))

    async def queue(self, *recipients: str) -> None:
        async with InMemoryUnitOfWork(self.database) as uow:
            for to in recipients:
                message = EmailMessage("welcome", to, "Welcome", SECRET_BODY)
                await uow.outbox.add(message, self.clock.now())
            await uow.commit()

    async def round(self, after: timedelta = timedelta(minutes=10)) -> None:
        """A round, ``after`` the previous one (by default past any retry delay)."""
        self.clock.advance(after)
        await self.dispatcher.round(self.deliver, self.status)


T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def refused(*recipients: str, max_attempts: int = 440) -> Outbox:
    """An outbox holding e-mails for ``recipients``, whose mail server refuses them all."""
    outbox = Outbox(max_attempts)
    await outbox.queue(*recipients)
    outbox.notifier.failure = REFUSED
    return outbox


EXTRAS = (
    "event",
    "reason",
    "pending",
    "failing",
    "dead",
    "failing_since",
    "email_id",
    "email_kind",
    "recipient_domain",
    "attempts",
)


def extras(record: logging.LogRecord) -> dict[str, object]:
    """The ``extra=`` fields of a record (what a JSON log line carries besides the text)."""
    return {name: record.__dict__[name] for name in EXTRAS if name in record.__dict__}


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (record.levelname, record.getMessage())
        for record in caplog.records
        if record.name == "neodyme.outbox"
    ]


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="neodyme.outbox")
    return caplog


async def test_an_smtp_outage_is_one_warning_with_reason_and_pending_count_and_one_at_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = await refused("a@example.com", "b@example.com", "c@example.com")

    for _ in range(5):  # 50 minutes of rounds that all fail: no line per round or e-mail
        await outbox.round(after=timedelta(seconds=5))
    assert lines(caplog) == [
        ("WARNING", f"e-mail delivery is failing: {REASON}; e-mails pending: 3"),
    ]
    [failing] = caplog.records
    assert extras(failing) == {
        "event": "outbox_failing",
        "reason": REASON,
        "pending": 3,
        "failing": 3,  # every pending e-mail failed once by now
        "dead": 0,
        "failing_since": (T0 + timedelta(seconds=5)).isoformat(),
    }

    caplog.clear()
    outbox.notifier.failure = None
    await outbox.round()
    await outbox.round()

    assert lines(caplog) == [
        (
            "WARNING",
            f"e-mail delivery recovered after 10m 20s of failures (last: {REASON});"
            " e-mails pending: 0",
        )
    ]
    assert caplog.records[0].__dict__["event"] == "outbox_recovered"
    assert len(outbox.notifier.sent) == 3


async def test_a_long_outage_gets_a_reminder_every_quarter_of_an_hour(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = await refused("a@example.com")

    for _ in range(7):  # 70 minutes
        await outbox.round(after=timedelta(minutes=10))

    assert lines(caplog) == [
        ("WARNING", f"e-mail delivery is failing: {REASON}; e-mails pending: 1"),
        ("WARNING", f"e-mail delivery still failing after 20m 0s: {REASON}; e-mails pending: 1"),
        ("WARNING", f"e-mail delivery still failing after 40m 0s: {REASON}; e-mails pending: 1"),
        ("WARNING", f"e-mail delivery still failing after 1h 0m: {REASON}; e-mails pending: 1"),
    ]


async def test_delivery_recovers_only_once_no_failed_email_is_left_waiting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = await refused("early@example.com")
    await outbox.round()  # the early e-mail fails; its retry is 2 s later
    outbox.notifier.failure = None
    await outbox.queue("new@example.com")

    await outbox.round(after=timedelta(seconds=1))  # the new one goes, the early one waits
    assert [m.to for m in outbox.notifier.sent] == ["new@example.com"]
    assert [level for level, _ in lines(caplog)] == ["WARNING"], "not recovered yet"

    await outbox.round(after=timedelta(seconds=5))
    assert [level for level, _ in lines(caplog)] == ["WARNING", "WARNING"]
    assert lines(caplog)[1][1].startswith("e-mail delivery recovered after 6s of failures")


async def test_an_email_given_up_is_one_error_line_without_its_address_or_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = await refused("grace.hopper@example.org", max_attempts=2)
    [entry] = outbox.database.outbox

    for _ in range(4):
        await outbox.round()

    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    [dead] = errors
    assert dead.getMessage() == (
        f"e-mail {entry.id} (welcome, to an address at example.org) given up after 2 failed"
        f" attempts: {REASON}; `neodyme outbox retry --dead` queues it again"
    )
    assert extras(dead) == {
        "event": "outbox_dead",
        "email_id": str(entry.id),
        "email_kind": "welcome",
        "recipient_domain": "example.org",
        "attempts": 2,
        "reason": REASON,
    }
    logged = caplog.text
    assert "grace.hopper" not in logged
    assert "s3cr3t" not in logged
    assert outbox.notifier.attempts == 2


async def test_a_drain_outside_the_server_logs_the_emails_it_gives_up_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = await refused("a@example.com", max_attempts=1)

    assert await OutboxDispatcher.drain(outbox.deliver) == 0

    assert [level for level, _ in lines(caplog)] == ["ERROR"]


async def test_a_reason_is_one_bounded_line_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    outbox = Outbox()
    await outbox.queue("a@example.com")
    outbox.notifier.failure = ConnectionResetError("first line\r\nINFO forged line " + "x" * 1000)

    await outbox.round()

    [(_, message)] = lines(caplog)
    assert "\n" not in message
    assert "\r" not in message
    assert "ConnectionResetError: first line INFO forged line xxx" in message
    assert len(message) < 400


async def test_an_unreadable_backlog_does_not_silence_the_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = await refused("a@example.com")

    def broken_status() -> OutboxStatus:
        raise ServiceUnavailable(context={"cause": "timeout"})

    await outbox.dispatcher.round(outbox.deliver, broken_status)

    assert lines(caplog) == [
        ("WARNING", f"e-mail delivery is failing: {REASON}; e-mails pending: unknown")
    ]
