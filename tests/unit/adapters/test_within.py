"""``within``: the deadline on getting a database connection. Past it the caller gets
TimeoutError at once, and the work it gave up on is left to unwind in the background
(psycopg may take seconds to give up a statement), then cleaned up."""

from __future__ import annotations

import asyncio

import pytest

from neodyme_adapters.sqlalchemy.engine import within

GUARD = 10.0
"""Seconds after which a wait that should have ended fails the test rather than hang."""


class SlowToUnwind:
    """Work that hangs and, once cancelled, does not finish unwinding until the test says
    so (like a psycopg statement trying to cancel itself on a silent network)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.unwinding = asyncio.Event()
        self.may_finish = asyncio.Event()
        self.unwound = asyncio.Event()
        self.cleaned_up = asyncio.Event()

    async def work(self) -> str:
        self.started.set()
        try:
            await asyncio.Event().wait()  # nothing ever sets it
        except asyncio.CancelledError:
            self.unwinding.set()
            await self.may_finish.wait()
            self.unwound.set()
            raise
        return "never"

    async def cleanup(self) -> None:
        assert self.unwound.is_set(), "cleanup runs after the work has unwound"
        self.cleaned_up.set()


async def test_the_result_of_work_done_in_time_comes_back() -> None:
    async def work() -> str:
        await asyncio.sleep(0)
        return "connection"

    assert await within(1.0, work()) == "connection"


async def test_an_error_of_the_work_is_raised_as_is() -> None:
    async def work() -> None:
        raise ConnectionRefusedError("no database here")

    with pytest.raises(ConnectionRefusedError, match="no database here"):
        await within(1.0, work())


async def test_past_the_deadline_the_caller_is_answered_at_once_and_cleanup_follows() -> None:
    slow = SlowToUnwind()

    # The work cannot finish unwinding before the caller has its answer: a ``within`` that
    # waited for it would hang here, until the guard fails the test.
    async with asyncio.timeout(GUARD):
        with pytest.raises(TimeoutError):
            await within(0.05, slow.work(), after_abandon=slow.cleanup)

    await asyncio.wait_for(slow.unwinding.wait(), GUARD)  # the work was cancelled
    assert not slow.unwound.is_set(), "the caller did not wait for the unwinding"
    assert not slow.cleaned_up.is_set()
    slow.may_finish.set()
    await asyncio.wait_for(slow.cleaned_up.wait(), GUARD)


async def test_a_cancelled_caller_abandons_the_work_which_is_cleaned_up() -> None:
    slow = SlowToUnwind()
    caller = asyncio.ensure_future(within(GUARD, slow.work(), after_abandon=slow.cleanup))
    await asyncio.wait_for(slow.started.wait(), GUARD)

    caller.cancel()

    with pytest.raises(asyncio.CancelledError):
        await caller
    assert not slow.cleaned_up.is_set()
    slow.may_finish.set()
    await asyncio.wait_for(slow.cleaned_up.wait(), GUARD)
