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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

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


DEFAULT_QUEUE_LIMIT = 128
"""Hashes allowed to wait for a thread. At production cost (~18 ms per hash, one thread per
core) a full queue drains in about a second on 2 cores; beyond it, waiting longer would
only turn into timeouts, so the caller is told at once to come back (503, Retry-After)."""


class Argon2Hasher:
    def __init__(
        self,
        parameters: Argon2Parameters = Argon2Parameters(),
        max_concurrency: int = 0,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
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
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, normalise(password))

    async def verify(self, hashed: str, password: str) -> bool:
        return await self._run(self._verify_sync, hashed, normalise(password))

    async def verify_dummy(self, password: str) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("neodyme dummy password, never a real one")
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
            raise ServiceUnavailable(
                "The server is busy, please retry", retry_after=1, context={"saturated": "hasher"}
            )
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self._admitted -= 1
