"""The e-mail dispatcher's loop: it drains what is due, leaves failures for a later run, and
reports a database outage in two lines (when it starts and when it ends), not a traceback
at every poll."""

from __future__ import annotations

import asyncio
import logging

import pytest

from neodyme_app.outbox_dispatcher import OutboxDispatcher
from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.use_cases import Delivery


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
        dispatcher.start(lambda: rounds)
        for _ in range(500):
            if rounds.calls >= 6:
                break
            await asyncio.sleep(0.002)
        await dispatcher.stop()

    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "outbox delivery paused: the database is unavailable",
        "outbox delivery resumed: the database is back",
    ]
    assert all(record.exc_info is None for record in caplog.records)
