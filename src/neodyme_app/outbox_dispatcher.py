"""The e-mail dispatcher: a background task in each server process that drains the outbox.

It wakes at once when a unit of work commits an outbox entry (``wake``), and on a timer so
that retries come due and entries left behind by a crashed process are picked up. Several
processes may run one each: claiming entries with a lease keeps them from sending the
same e-mail twice.

Delivery failures are logged on ``neodyme.outbox`` for operators, never per e-mail and
poll: one WARNING when delivery starts failing (reason and pending count), a reminder now
and then while it fails, one WARNING when it has recovered (``DeliveryHealth`` decides),
and one ERROR for each e-mail given up after its last attempt. Each server process runs a
dispatcher of its own, so with several workers each may say so: an outage is told once
per worker, which is still a few lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from neodyme_adapters.clock import SystemClock
from neodyme_domain.delivery_health import DeliveryHealth, HealthChange, HealthEvent
from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.ports import Clock
from neodyme_domain.use_cases import DeadLetter, DeliverOutbox, Delivery, OutboxStatus
from neodyme_domain.use_cases.outbox_status import OutboxBacklog

log = logging.getLogger("neodyme.outbox")

WAKE_COALESCE_SECONDS = 0.05
"""How long a wake-up waits for more commits before draining: e-mails leave at most this
much later, and under load a round claims many entries instead of one."""

MAX_REASON_CHARS = 300
"""A failure's reason is the exception's type and message (a mail server's reply, an OS
error): cut to this length in the log, kept to one line."""


class OutboxDispatcher:
    def __init__(
        self,
        poll_seconds: float,
        clock: Clock | None = None,
        health: DeliveryHealth | None = None,
    ) -> None:
        self._poll_seconds = poll_seconds
        self._clock = clock or SystemClock()
        self._health = health or DeliveryHealth()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wakeup.set()

    def start(
        self, deliver: Callable[[], DeliverOutbox], *, status: Callable[[], OutboxStatus]
    ) -> None:
        """Run in the background, building a ``DeliverOutbox`` per round with ``deliver``,
        and an ``OutboxStatus`` with ``status`` when the pending count is to be told."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(deliver, status), name="outbox"
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @staticmethod
    async def drain(deliver: Callable[[], DeliverOutbox]) -> int:
        """Deliver everything due now; returns how many e-mails were sent.

        Stops after a round that did not fill its batch (nothing more was due: one more
        round would only cost a transaction per wake-up, on the path of every
        registration) and after a round that sent nothing: with the mail server down, the
        entries that failed are rescheduled and left for a later run, instead of being
        retried in a tight loop whenever their retry delay is shorter than a round.

        E-mails given up on the way are logged at ERROR, wherever the drain runs (a server's
        dispatcher, or the last delivery of an in-process or CLI run).
        """
        return (await _drain(deliver)).sent

    async def _run(
        self, deliver: Callable[[], DeliverOutbox], status: Callable[[], OutboxStatus]
    ) -> None:
        unavailable = False
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_seconds)
                # Woken by a commit: let the commits of the next moment join this round,
                # one claim and one batch for many e-mails instead of a round for each.
                await asyncio.sleep(WAKE_COALESCE_SECONDS)
            self._wakeup.clear()
            try:
                await self.round(deliver, status)
            except ServiceUnavailable:
                # An outage, not a bug: one line when it starts and one when it ends, not a
                # traceback every poll.
                if not unavailable:
                    log.warning("outbox delivery paused: the database is unavailable")
                unavailable = True
                continue
            except Exception:  # the loop must outlive any one failure
                log.exception("outbox delivery failed; retrying later")
                continue
            if unavailable:
                log.warning("outbox delivery resumed: the database is back")
            unavailable = False

    async def round(
        self, deliver: Callable[[], DeliverOutbox], status: Callable[[], OutboxStatus]
    ) -> None:
        """One wake-up's work: deliver what is due, then log what changed in the delivery's
        health (``start`` runs it in a loop; tests run it alone)."""
        drained = await _drain(deliver)
        now = self._clock.now()
        backlog: OutboxBacklog | None = None
        change: HealthChange | None = None
        if drained.failed:
            change = self._health.failed(now, _one_line(drained.last_error or "unknown"))
        elif drained.sent and self._health.failing:
            # Something got through: recovered once nothing that failed is left waiting (an
            # e-mail refused for days keeps delivery "failing", with a reminder now and then).
            backlog = await status()()
            if backlog.failing == 0:
                change = self._health.cleared(now)
        if change is not None:
            _log_change(change, now, backlog or await _backlog(status))


async def _drain(deliver: Callable[[], DeliverOutbox]) -> Delivery:
    """``OutboxDispatcher.drain``'s rounds, summed: sent and failed counts, the last failure's
    reason, and the dead letters (each logged here)."""
    sent = failed = 0
    last_error: str | None = None
    dead: list[DeadLetter] = []
    while True:
        delivery = await deliver()()
        sent += delivery.sent
        failed += delivery.failed
        last_error = delivery.last_error or last_error
        for letter in delivery.dead:
            _log_dead_letter(letter)
        dead += delivery.dead
        if delivery.sent == 0 or not delivery.more_due:
            return Delivery(sent=sent, failed=failed, last_error=last_error, dead=tuple(dead))


async def _backlog(status: Callable[[], OutboxStatus]) -> OutboxBacklog | None:
    """The backlog for a log line; None if it cannot be read (the line is told anyway)."""
    try:
        return await status()()
    except Exception:  # the database is failing too: say what is known
        return None


def _log_change(change: HealthChange, now: datetime, backlog: OutboxBacklog | None) -> None:
    pending = "unknown" if backlog is None else str(backlog.pending)
    failing_for = duration_text(now - change.failing_since)
    if change.event is HealthEvent.FAILING:
        message = "e-mail delivery is failing: %s; e-mails pending: %s"
        args: tuple[Any, ...] = (change.reason, pending)
    elif change.event is HealthEvent.STILL_FAILING:
        message = "e-mail delivery still failing after %s: %s; e-mails pending: %s"
        args = (failing_for, change.reason, pending)
    else:
        message = "e-mail delivery recovered after %s of failures (last: %s); e-mails pending: %s"
        args = (failing_for, change.reason, pending)
    log.warning(
        message,
        *args,
        extra={
            "event": f"outbox_{change.event.value}",
            "reason": change.reason,
            "failing_since": change.failing_since.isoformat(),
            "pending": None if backlog is None else backlog.pending,
            "failing": None if backlog is None else backlog.failing,
            "dead": None if backlog is None else backlog.dead,
        },
    )


def _log_dead_letter(letter: DeadLetter) -> None:
    reason = _one_line(letter.last_error)
    log.error(
        "e-mail %s (%s, to an address at %s) given up after %d failed attempts: %s;"
        " `neodyme outbox retry --dead` queues it again",
        letter.entry_id,
        letter.kind,
        letter.recipient_domain,
        letter.attempts,
        reason,
        extra={
            "event": "outbox_dead",
            "email_id": str(letter.entry_id),
            "email_kind": letter.kind,
            "recipient_domain": letter.recipient_domain,
            "attempts": letter.attempts,
            "reason": reason,
        },
    )


def _one_line(text: str) -> str:
    """A reason fit for one log line: controls (CR, LF...) as spaces, length bounded."""
    flat = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in text)
    flat = " ".join(flat.split())
    return flat if len(flat) <= MAX_REASON_CHARS else flat[: MAX_REASON_CHARS - 3] + "..."


def duration_text(delta: timedelta) -> str:
    """``45s``, ``12m 5s``, ``3h 20m``, ``2d 4h``: how long, at a glance."""
    seconds = max(int(delta.total_seconds()), 0)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {seconds}s"
    return f"{seconds}s"
