"""The e-mail dispatcher: a background task in each server process that drains the outbox.

It wakes at once when a unit of work commits an outbox entry (``wake``), and on a timer so
that retries come due and entries left behind by a crashed process are picked up. Several
processes may run one each: claiming entries with a lease keeps them from sending the
same e-mail twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.use_cases import DeliverOutbox

log = logging.getLogger("neodyme.outbox")

WAKE_COALESCE_SECONDS = 0.05
"""How long a wake-up waits for more commits before draining: e-mails leave at most this
much later, and under load a round claims many entries instead of one."""


class OutboxDispatcher:
    def __init__(self, poll_seconds: float) -> None:
        self._poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wakeup.set()

    def start(self, deliver: Callable[[], DeliverOutbox]) -> None:
        """Run in the background, building a ``DeliverOutbox`` per round with ``deliver``."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(deliver), name="outbox")

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
        """
        sent = 0
        while True:
            delivery = await deliver()()
            sent += delivery.sent
            if delivery.sent == 0 or not delivery.more_due:
                return sent

    async def _run(self, deliver: Callable[[], DeliverOutbox]) -> None:
        unavailable = False
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_seconds)
                # Woken by a commit: let the commits of the next moment join this round,
                # one claim and one batch for many e-mails instead of a round for each.
                await asyncio.sleep(WAKE_COALESCE_SECONDS)
            self._wakeup.clear()
            try:
                await self.drain(deliver)
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
