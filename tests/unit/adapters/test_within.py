"""``within``: the deadline on getting a database connection. Past it the caller gets
TimeoutError at once, and the work it gave up on is left to unwind in the background
(psycopg may take seconds to give up a statement), then cleaned up."""

from __future__ import annotations

import asyncio
import time

import pytest

from neodyme_adapters.sqlalchemy.engine import within


class SlowToUnwind:
    """Work that hangs, and once cancelled takes ``unwind`` seconds to finish (like a
    psycopg statement trying to cancel itself on a silent network)."""

    def __init__(self, unwind: float) -> None:
        self.unwind = unwind
        self.unwound = asyncio.Event()
        self.cleaned_up = asyncio.Event()

    async def work(self) -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(self.unwind)
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
    slow = SlowToUnwind(unwind=0.3)
    started = time.monotonic()

    with pytest.raises(TimeoutError):
        await within(0.05, slow.work(), after_abandon=slow.cleanup)

    assert time.monotonic() - started < 0.25, "the caller does not wait for the unwinding"
    assert not slow.unwound.is_set()
    await asyncio.wait_for(slow.cleaned_up.wait(), 2.0)


async def test_a_cancelled_caller_abandons_the_work_which_is_cleaned_up() -> None:
    slow = SlowToUnwind(unwind=0.05)
    caller = asyncio.ensure_future(within(10.0, slow.work(), after_abandon=slow.cleanup))
    await asyncio.sleep(0.01)

    caller.cancel()

    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.wait_for(slow.cleaned_up.wait(), 2.0)
