"""The PasswordHasher port on the argon2id adapter.

Cheap parameters everywhere except the one test that pins the production parameters.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher, Argon2Parameters
from neodyme_domain.errors import ServiceUnavailable

OTHER_PARAMETERS = Argon2Parameters(memory_kib=128, time_cost=2, parallelism=1)


@pytest.fixture
def hasher() -> Iterator[Argon2Hasher]:
    hasher = Argon2Hasher(CHEAP_PARAMETERS)
    yield hasher
    hasher.close()


async def test_hash_is_not_the_password(hasher: Argon2Hasher) -> None:
    hashed = await hasher.hash("SecurePassword123!")

    assert hashed != "SecurePassword123!"
    assert "SecurePassword123!" not in hashed
    assert hashed.startswith("$argon2id$")


async def test_verify_accepts_the_right_password(hasher: Argon2Hasher) -> None:
    hashed = await hasher.hash("SecurePassword123!")

    assert await hasher.verify(hashed, "SecurePassword123!") is True


@pytest.mark.parametrize(
    "attempt", ["SecurePassword123", "securepassword123!", "", "SecurePassword123! ", "\ud800"]
)
async def test_verify_refuses_a_wrong_password(hasher: Argon2Hasher, attempt: str) -> None:
    hashed = await hasher.hash("SecurePassword123!")

    assert await hasher.verify(hashed, attempt) is False


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a hash",
        "$argon2id$",
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$bm90IGEgcmVhbCBoYXNo",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$argon2id$v=19$m=64,t=1,p=1$ü$ü",
        "\x00",
    ],
)
async def test_verify_against_an_unreadable_hash_is_false_not_an_error(
    hasher: Argon2Hasher, garbage: str
) -> None:
    assert await hasher.verify(garbage, "SecurePassword123!") is False


async def test_a_corrupted_hash_of_the_right_password_is_refused(hasher: Argon2Hasher) -> None:
    hashed = await hasher.hash("SecurePassword123!")
    corrupted = hashed[:-2] + ("AA" if not hashed.endswith("AA") else "BB")

    assert await hasher.verify(corrupted, "SecurePassword123!") is False


async def test_each_hash_is_salted(hasher: Argon2Hasher) -> None:
    first = await hasher.hash("SecurePassword123!")
    second = await hasher.hash("SecurePassword123!")

    assert first != second
    assert await hasher.verify(first, "SecurePassword123!")
    assert await hasher.verify(second, "SecurePassword123!")


async def test_own_hashes_need_no_rehash(hasher: Argon2Hasher) -> None:
    assert hasher.needs_rehash(await hasher.hash("SecurePassword123!")) is False


async def test_hashes_made_with_other_parameters_need_a_rehash(hasher: Argon2Hasher) -> None:
    other = Argon2Hasher(OTHER_PARAMETERS)
    try:
        old = await other.hash("SecurePassword123!")
    finally:
        other.close()

    assert hasher.needs_rehash(old) is True
    assert await hasher.verify(old, "SecurePassword123!") is True  # still logs in, then rehash


@pytest.mark.parametrize("garbage", ["", "not a hash", "$2b$12$abcdefghijklmnopqrstuv", "ü"])
def test_unreadable_hashes_need_a_rehash(hasher: Argon2Hasher, garbage: str) -> None:
    assert hasher.needs_rehash(garbage) is True


async def test_verify_dummy_returns_nothing_and_can_be_repeated(hasher: Argon2Hasher) -> None:
    # Its purpose is to take as long as a verify; timings are not asserted (they are noisy),
    # only that it does the work without failing, whatever the password.
    first = await asyncio.gather(hasher.verify_dummy("SecurePassword123!"))
    again = await asyncio.gather(*(hasher.verify_dummy(f"pw{i}") for i in range(4)))

    assert list(first) == [None]
    assert again == [None] * 4


async def test_production_defaults_are_owasp_argon2id() -> None:
    hasher = Argon2Hasher()  # the real cost: this test is about it
    try:
        hashed = await hasher.hash("SecurePassword123!")
        assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert await hasher.verify(hashed, "SecurePassword123!") is True
        assert hasher.needs_rehash(hashed) is False
    finally:
        hasher.close()


class _ObservedArgon2:
    """Stands in for argon2-cffi's PasswordHasher inside the adapter: counts the hashes in
    flight, and can make each one wait for a partner (``barrier``) or for the test to
    release it (``gate``)."""

    def __init__(
        self,
        real: Any,
        *,
        barrier: threading.Barrier | None = None,
        gate: threading.Event | None = None,
    ) -> None:
        self._real = real
        self._barrier = barrier
        self._gate = gate
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.started = threading.Event()
        self.threads: set[str] = set()

    def hash(self, password: str) -> str:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.threads.add(threading.current_thread().name)
        self.started.set()
        try:
            if self._barrier is not None:
                self._barrier.wait(timeout=10)
            if self._gate is not None and not self._gate.wait(timeout=10):
                raise TimeoutError("the event loop never released the hash")
            return str(self._real.hash(password))
        finally:
            with self._lock:
                self.in_flight -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class ObservedHasher(Argon2Hasher):
    def __init__(self, *, max_concurrency: int, **observe: Any) -> None:
        super().__init__(CHEAP_PARAMETERS, max_concurrency=max_concurrency)
        self.observed = _ObservedArgon2(self._argon2, **observe)
        self._argon2 = self.observed  # type: ignore[assignment]  # a stand-in, by design


async def test_at_most_max_concurrency_hashes_run_at_once() -> None:
    # Each hash waits for a partner, so the bound of two is actually reached (with a bound
    # of one the barrier would break); a third hash in flight would show in the count.
    hasher = ObservedHasher(max_concurrency=2, barrier=threading.Barrier(2))
    try:
        hashes = await asyncio.gather(*(hasher.hash(f"Password{i}!") for i in range(8)))
    finally:
        hasher.close()

    assert len(set(hashes)) == 8
    assert hasher.observed.most_in_flight == 2
    assert len(hasher.observed.threads) == 2
    assert all(name.startswith("argon2") for name in hasher.observed.threads)


async def test_hashing_does_not_block_the_event_loop() -> None:
    # Each hash waits in its worker thread until the event loop releases it: if hashing ran
    # on the loop, the loop could never get there and the hash would time out.
    gate = threading.Event()
    hasher = ObservedHasher(max_concurrency=2, gate=gate)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        # Waiting in a helper thread keeps the loop free, like everything else here.
        assert await asyncio.to_thread(hasher.observed.started.wait, 10)
        for _ in range(100):  # a hash is held in its worker thread all along
            ticks += 1
            await asyncio.sleep(0)
        gate.set()

    try:
        hashes, _ = await asyncio.gather(
            asyncio.gather(*(hasher.hash(f"Password{i}!") for i in range(8))),
            ticker(),
        )
    finally:
        hasher.close()

    assert ticks == 100
    assert len(hashes) == 8
    assert hasher.observed.most_in_flight <= 2


async def test_a_full_queue_is_refused_at_once_and_the_hasher_recovers() -> None:
    hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1, queue_limit=1)
    try:
        outcomes = await asyncio.gather(
            *(hasher.hash(f"password {i}") for i in range(3)), return_exceptions=True
        )
        later = await hasher.hash("after the burst")
    finally:
        hasher.close()

    refused = [o for o in outcomes if isinstance(o, ServiceUnavailable)]
    assert len(refused) == 1
    assert refused[0].retry_after == 1
    assert all(isinstance(o, str) for o in outcomes if o not in refused)
    assert later.startswith("$argon2id$")
