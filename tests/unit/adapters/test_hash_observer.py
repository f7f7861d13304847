"""What the hasher tells the metrics about its load: its limits, the hashes waiting for a
thread, the time each hash took, and the hashes refused because the queue was full."""

from __future__ import annotations

import asyncio
import time

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher
from neodyme_domain.errors import ServiceUnavailable


class RecordingHashObserver:
    def __init__(self) -> None:
        self.limits: tuple[int, int] | None = None
        self.queue: list[int] = []
        self.durations: list[float] = []
        self.refused = 0

    def hash_limits(self, threads: int, queue_limit: int) -> None:
        self.limits = (threads, queue_limit)

    def hash_queue(self, waiting: int) -> None:
        self.queue.append(waiting)

    def hashed(self, seconds: float) -> None:
        self.durations.append(seconds)

    def hash_refused(self) -> None:
        self.refused += 1


async def test_the_hasher_reports_its_queue_its_hashes_and_its_refusals() -> None:
    observer = RecordingHashObserver()
    hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1, queue_limit=1, observer=observer)
    started = time.perf_counter()
    try:
        # Three at once: one hashing, one waiting for the thread, one beyond the queue.
        outcomes = await asyncio.gather(
            hasher.hash("first password"),
            hasher.hash("second password"),
            hasher.hash("third password"),
            return_exceptions=True,
        )
        await hasher.verify(str(outcomes[0]), "first password")
    finally:
        hasher.close()
    waited = time.perf_counter() - started

    assert isinstance(outcomes[2], ServiceUnavailable)
    assert observer.limits == (1, 1)
    assert observer.queue == [1, 0]  # the second waited, then nobody did
    assert len(observer.durations) == 3  # two hashes and a verify; the refused one is none
    # Each a part of what the caller waited: measured on a thread, not a point in time.
    assert all(0 < seconds <= waited for seconds in observer.durations)
    assert observer.refused == 1
