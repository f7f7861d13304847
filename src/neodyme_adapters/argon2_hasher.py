"""argon2id password hashing, off the event loop, with bounded memory.

Each hash holds ``memory_kib`` of RAM for its duration. Work runs in a private thread pool
with one thread per CPU core (by default), so at most that many hashes run at once: memory
stays at ``memory_kib x threads`` however many logins arrive, extra requests wait in a
bounded queue (beyond it: ServiceUnavailable at once, never a stalled connection), and the
event loop keeps serving other requests meanwhile (argon2-cffi releases the GIL while
hashing).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.passwords import normalise

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """OWASP's argon2id recommendation by default: 19 MiB, 2 passes, 1 lane."""

    memory_kib: int = 19456
    time_cost: int = 2
    parallelism: int = 1


CHEAP_PARAMETERS = Argon2Parameters(memory_kib=64, time_cost=1, parallelism=1)
"""For tests only: the same algorithm at a cost of microseconds."""


OWASP_MINIMUM_MEMORY_KIB = {1: 47104, 2: 19456, 3: 12288, 4: 9216, 5: 7168}
"""OWASP Password Storage Cheat Sheet, argon2id with p=1: the least memory (KiB) for each
number of passes; the five pairs give an equal defence. More than 5 passes: the t=5 row."""


def owasp_minimum_memory_kib(time_cost: int) -> int:
    """The least ``memory_kib`` OWASP accepts with ``time_cost`` passes (a cost a production
    deployment must not go below, so that a cheap test setting never reaches it)."""
    return OWASP_MINIMUM_MEMORY_KIB[min(max(time_cost, 1), max(OWASP_MINIMUM_MEMORY_KIB))]


def parameter_problem(parameters: Argon2Parameters) -> str | None:
    """Why argon2 cannot run with ``parameters``, or None: the limits of the reference
    implementation (RFC 9106, section 3.1), checked before the first hash fails."""
    if not 1 <= parameters.parallelism < 2**24:
        return "parallelism must be between 1 and 16777215"
    if not 1 <= parameters.time_cost < 2**32:
        return "time cost must be between 1 and 4294967295"
    if not 8 * parameters.parallelism <= parameters.memory_kib < 2**32:
        return "memory must be at least 8 KiB per lane and below 4 TiB"
    return None


DEFAULT_QUEUE_LIMIT = 128
"""Hashes allowed to wait for a thread. At production cost (~18 ms per hash, one thread per
core) a full queue drains in about a second on 2 cores; beyond it, waiting longer would
only turn into timeouts, so the caller is told at once to come back (503, Retry-After)."""


class HashObserver(Protocol):
    """What the hasher tells about its load (the service's metrics): called on the event
    loop, except ``hashed`` (from the hashing thread); it only records, never blocks."""

    def hash_limits(self, threads: int, queue_limit: int) -> None: ...

    def hash_queue(self, waiting: int) -> None:
        """Hashes admitted and waiting for a thread, whenever that number changes."""

    def hashed(self, seconds: float) -> None:
        """One hash or verify took ``seconds`` of a thread (the queue wait excluded)."""

    def hash_refused(self) -> None:
        """The queue was full: the caller was told to come back later (503)."""


class Argon2Hasher:
    def __init__(
        self,
        parameters: Argon2Parameters = Argon2Parameters(),
        max_concurrency: int = 0,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        observer: HashObserver | None = None,
    ) -> None:
        self.parameters = parameters
        self._argon2 = _Argon2(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_kib,
            parallelism=parameters.parallelism,
            type=Type.ID,
        )
        self.max_concurrency = max_concurrency or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="argon2")
        self._capacity = self.max_concurrency + queue_limit
        self._admitted = 0
        self._observer = observer
        self._waiting = 0
        if observer is not None:
            observer.hash_limits(self.max_concurrency, queue_limit)
        # Made now, synchronously, not at the first unknown-address login: that login would
        # cost a hash and a verify, longer than a wrong password's verify, and tell the
        # address apart. The container builds the hasher when the app or the CLI starts.
        # Any text makes as good a dummy: verify_dummy drops the verdict.
        dummy = "neodyme dummy, not a password"  # pragma: no mutate (equivalent: verdict dropped)
        self._dummy_hash = self._argon2.hash(dummy)
        self._hashes = 1

    @property
    def hashes_computed(self) -> int:
        """Hashes made by this hasher so far, the dummy's included: a verify is not one."""
        return self._hashes

    async def hash(self, password: str) -> str:
        hashed = await self._run(self._argon2.hash, normalise(password))
        self._hashes += 1  # counted on the event loop, not in the worker threads
        return hashed

    async def verify(self, hashed: str, password: str) -> bool:
        return await self._run(self._verify_sync, hashed, normalise(password))

    async def verify_dummy(self, password: str) -> None:
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, hashed: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(hashed)
        except InvalidHashError:
            return True

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _verify_sync(self, hashed: str, password: str) -> bool:
        try:
            return self._argon2.verify(hashed, password)
        except (VerificationError, InvalidHashError, UnicodeError):
            # VerifyMismatchError is a VerificationError. UnicodeError: argon2-cffi encodes a
            # hash as ASCII and a password as UTF-8, so a non-ASCII (corrupt) stored hash or a
            # password with a lone surrogate would otherwise escape as an exception.
            return False

    async def _run(self, fn: Callable[..., R], *args: str) -> R:
        if self._admitted >= self._capacity:
            if self._observer is not None:
                self._observer.hash_refused()
            raise ServiceUnavailable(
                "The server is busy, please retry", context={"saturated": "hasher"}
            )
        self._admitted += 1
        self._report_queue()
        work = fn if self._observer is None else self._timed(fn, self._observer)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)
        finally:
            self._admitted -= 1
            self._report_queue()

    def _report_queue(self) -> None:
        # Admitted beyond the threads are waiting: the pool runs max_concurrency at a time.
        waiting = max(0, self._admitted - self.max_concurrency)
        if waiting != self._waiting and self._observer is not None:
            self._waiting = waiting
            self._observer.hash_queue(waiting)

    @staticmethod
    def _timed(fn: Callable[..., R], observer: HashObserver) -> Callable[..., R]:
        def timed(*args: str) -> R:
            started = time.perf_counter()
            try:
                return fn(*args)
            finally:
                observer.hashed(time.perf_counter() - started)

        return timed
