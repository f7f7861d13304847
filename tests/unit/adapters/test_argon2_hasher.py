"""The argon2id adapter in the unit tier: the parameters it hashes with and refuses, its
default size, what a caller sees when it is saturated, and what closing it does to the
hashes still in its hands. (The contract tier proves the PasswordHasher port itself.)"""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from argon2.exceptions import HashingError

from neodyme_adapters.argon2_hasher import (
    CHEAP_PARAMETERS,
    DEFAULT_QUEUE_LIMIT,
    Argon2Hasher,
    Argon2Parameters,
    parameter_problem,
)
from neodyme_domain.errors import ServiceUnavailable
from tests.unit.adapters.test_hash_observer import RecordingHashObserver

LANES = "parallelism must be between 1 and 16777215"
PASSES = "time cost must be between 1 and 4294967295"
MEMORY = "memory must be at least 8 KiB per lane and below 4 TiB"


class GatedHashObserver(RecordingHashObserver):
    """Holds the first hash in its thread (``hashed`` is called there, when the hash is
    done) until the test opens ``gate``; notes the thread of every hash."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.queued = asyncio.Event()

    def hash_queue(self, waiting: int) -> None:
        super().hash_queue(waiting)
        if waiting:
            self.queued.set()

    def hashed(self, seconds: float) -> None:
        self.threads.append(threading.current_thread().name)
        if not self.entered.is_set():
            self.entered.set()
            self.gate.wait(timeout=10)
        super().hashed(seconds)


async def hold_one_and_queue_one(
    hasher: Argon2Hasher, observer: GatedHashObserver
) -> tuple[asyncio.Task[str], asyncio.Task[str]]:
    """A hash held in the hasher's one thread, and a second one handed to it meanwhile."""
    running = asyncio.create_task(hasher.hash("running password"))
    assert await asyncio.to_thread(observer.entered.wait, 10)
    waiting = asyncio.create_task(hasher.hash("waiting password"))
    async with asyncio.timeout(10):
        await observer.queued.wait()  # admitted, so already submitted to the thread pool
    return running, waiting


@pytest.mark.parametrize(
    "parameters",
    [
        Argon2Parameters(memory_kib=8, time_cost=1, parallelism=1),
        Argon2Parameters(memory_kib=16, time_cost=1, parallelism=2),
        Argon2Parameters(memory_kib=8 * (2**24 - 1), time_cost=1, parallelism=2**24 - 1),
        Argon2Parameters(memory_kib=2**32 - 1, time_cost=2**32 - 1, parallelism=1),
    ],
    ids=["least", "8 KiB a lane", "most lanes", "most memory and passes"],
)
def test_parameters_at_the_limits_of_argon2_have_no_problem(parameters: Argon2Parameters) -> None:
    assert parameter_problem(parameters) is None


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        (Argon2Parameters(memory_kib=64, time_cost=1, parallelism=0), LANES),
        (Argon2Parameters(memory_kib=8 * 2**24, time_cost=1, parallelism=2**24), LANES),
        (Argon2Parameters(memory_kib=64, time_cost=0, parallelism=1), PASSES),
        (Argon2Parameters(memory_kib=64, time_cost=2**32, parallelism=1), PASSES),
        (Argon2Parameters(memory_kib=7, time_cost=1, parallelism=1), MEMORY),
        (Argon2Parameters(memory_kib=15, time_cost=1, parallelism=2), MEMORY),
        (Argon2Parameters(memory_kib=2**32, time_cost=1, parallelism=1), MEMORY),
    ],
    ids=[
        "no lane",
        "a lane too many",
        "no pass",
        "a pass too many",
        "7 KiB",
        "15 KiB for 2",
        "4 TiB",
    ],
)
def test_parameters_past_a_limit_are_named_and_argon2_itself_refuses_them(
    parameters: Argon2Parameters, problem: str
) -> None:
    # The settings refuse to start with these (the message ends the operator's error line);
    # the second half shows that the check only says early what argon2 would say later.
    assert parameter_problem(parameters) == problem
    with pytest.raises((HashingError, OverflowError)):
        Argon2Hasher(parameters, max_concurrency=1)


async def test_hashes_record_the_parameters_they_were_made_with() -> None:
    parameters = Argon2Parameters(memory_kib=72, time_cost=2, parallelism=2)
    hasher = Argon2Hasher(parameters, max_concurrency=1)
    cheap = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1)
    try:
        hashed = await hasher.hash("SecurePassword123!")
        other = await cheap.hash("SecurePassword123!")
    finally:
        hasher.close()
        cheap.close()

    assert hasher.parameters == parameters
    assert hashed.startswith("$argon2id$v=19$m=72,t=2,p=2$")
    assert hasher.needs_rehash(hashed) is False
    assert hasher.needs_rehash(other) is True


@pytest.mark.parametrize("garbage", ["", "not a hash", "$2b$12$R9h/cIPz0gi.URNNX3kh2O"])
def test_a_hash_argon2_cannot_read_needs_a_rehash(garbage: str) -> None:
    hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1)
    try:
        assert hasher.needs_rehash(garbage) is True
    finally:
        hasher.close()


def test_by_default_a_hasher_has_a_thread_per_core_and_the_default_queue() -> None:
    observer = RecordingHashObserver()
    hasher = Argon2Hasher(CHEAP_PARAMETERS, observer=observer)
    hasher.close()

    assert hasher.max_concurrency == (os.cpu_count() or 1)
    assert observer.limits == (hasher.max_concurrency, DEFAULT_QUEUE_LIMIT)


def test_where_the_cores_cannot_be_counted_a_hasher_has_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # what os.cpu_count may answer

    hasher = Argon2Hasher(CHEAP_PARAMETERS)
    hasher.close()

    assert hasher.max_concurrency == 1


async def test_a_full_queue_tells_the_caller_to_retry_in_a_second_burst_after_burst() -> None:
    hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1, queue_limit=1)
    try:
        # Each burst: one hashing, one waiting for the thread, one beyond the queue. The
        # second burst meets the same bound: the first left no place taken or freed twice.
        bursts = [
            await asyncio.gather(
                *(hasher.hash(f"password {i}") for i in range(3)), return_exceptions=True
            )
            for _ in range(2)
        ]
    finally:
        hasher.close()

    for outcomes in bursts:
        assert [isinstance(o, str) for o in outcomes] == [True, True, False]
        refused = outcomes[2]
        assert isinstance(refused, ServiceUnavailable)
        assert (refused.code, refused.message) == (
            "SERVICE_UNAVAILABLE",
            "The server is busy, please retry",
        )
        assert (refused.retry_after, refused.details) == (1, {"retry_after": 1})
        assert refused.context == {"saturated": "hasher"}  # the log tells it from the database


async def test_a_hash_waits_for_the_hashers_own_busy_thread_rather_than_another() -> None:
    observer = GatedHashObserver()
    hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1, observer=observer)
    try:
        running, waiting = await hold_one_and_queue_one(hasher, observer)
        observer.gate.set()
        await asyncio.gather(running, waiting)
    finally:
        hasher.close()

    assert len(observer.threads) == 2
    assert set(observer.threads) == {observer.threads[0]}
    assert observer.threads[0].startswith("argon2_")  # the pool's, named in thread dumps


async def test_closing_abandons_the_waiting_hashes_and_does_not_wait_for_the_running_one() -> None:
    observer = GatedHashObserver()
    hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1, observer=observer)
    running, waiting = await hold_one_and_queue_one(hasher, observer)

    hasher.close()
    finished_when_closed = list(observer.durations)
    observer.gate.set()

    assert finished_when_closed == []  # close() returned while a hash was still running
    assert (await running).startswith("$argon2id$")  # which then finished
    with pytest.raises(asyncio.CancelledError):
        await waiting
