"""Can a stopwatch tell an unknown address from a wrong password at POST /auth/login?

The answers are byte-identical (tests/e2e/test_enumeration.py); this measures the other
channel, time. It starts a real `neodyme serve` with the production argon2id parameters
(m=19456 KiB, t=2, p=1: the point is timing against a real hash) on a SQLite file in a
temporary directory, registers users, then sends interleaved pairs of failed logins, one
after another: an unknown address and a registered one with a wrong password, alternating
which of the two goes first. It prints the median of each, their difference, and the
median time of one argon2id verify with the same parameters, measured in this process
during the same run. The difference should be under a quarter of one verify: an unknown
address must cost a full verify too (the server's dummy hash).

Two scenarios, because login throttling keeps state per address (known or not) and an
address with failures on record costs a write more than a fresh one: "first failure" pairs
a new unknown address with a new registered one each time; "repeated failures" sends the
same two addresses throughout (the throttling limits are set out of reach). Comparing a
fresh unknown address with a registered one that keeps failing would time that state,
not the existence of the account.

    .venv/bin/python -m bench.enumeration_timing [--pairs 50] [--database-url URL]

It prints figures and exits 0 either way (exit 1 only if the server misbehaves): timing
on a shared machine is evidence for a person to read, not a test to pass or fail.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
import uuid
from dataclasses import dataclass

import httpx
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerifyMismatchError

from bench.server import running_server

MEMORY_KIB, TIME_COST, PARALLELISM = 19456, 2, 1  # api.md's production settings
PASSWORD = "BenchPassword123!"
WRONG = "WrongPassword123!"
WARMUP = 5


def _failed_login(client: httpx.Client, email: str, password: str) -> float:
    """Seconds for one failed login (which must be a 401)."""
    start = time.perf_counter()
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    elapsed = time.perf_counter() - start
    if response.status_code != 401:
        raise SystemExit(f"expected 401, got {response.status_code}: {response.text}")
    return elapsed


def _unknown() -> str:
    return f"nobody-{uuid.uuid4().hex[:12]}@example.com"


def _register(client: httpx.Client) -> str:
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    registered = client.post(
        "/api/v1/auth/register", json={"email": email, "full_name": "Bench", "password": PASSWORD}
    )
    if registered.status_code != 201:
        raise SystemExit(f"registration failed: {registered.status_code} {registered.text}")
    return email


def _pairs(
    client: httpx.Client, unknown_addresses: list[str], known_addresses: list[str]
) -> Timings:
    """One failed login for each (unknown, known) pair, in turn; which of the two goes
    first alternates, so that drift hits both sides alike."""
    timings = Timings([], [])
    for index, (unknown, known) in enumerate(zip(unknown_addresses, known_addresses, strict=True)):
        if index % 2 == 0:
            timings.unknown.append(_failed_login(client, unknown, WRONG))
            timings.wrong.append(_failed_login(client, known, WRONG))
        else:
            timings.wrong.append(_failed_login(client, known, WRONG))
            timings.unknown.append(_failed_login(client, unknown, WRONG))
    return timings


@dataclass(frozen=True, slots=True)
class Timings:
    unknown: list[float]
    wrong: list[float]


def measure_logins(base_url: str, pairs: int) -> dict[str, Timings]:
    """Two scenarios, each comparing like with like (login throttling keeps per-address
    state, and an address with failures on record costs a write more than a fresh one,
    known or not):

    - first failure: a new unknown address and a new registered one in every pair;
    - repeated failures: the same unknown address and the same registered one throughout,
      both accumulating failures (the limits are set out of reach).
    """
    with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
        fresh_known = [_register(client) for _ in range(pairs)]
        repeated_known = _register(client)
        warmup_known = _register(client)
        for _ in range(WARMUP):  # the connection, the dummy hash, the caches
            _failed_login(client, _unknown(), WRONG)
            _failed_login(client, warmup_known, WRONG)
        first = _pairs(client, [_unknown() for _ in range(pairs)], fresh_known)
        repeated_unknown = _unknown()
        repeated = _pairs(client, [repeated_unknown] * pairs, [repeated_known] * pairs)
    return {"first failure of each address": first, "repeated failures": repeated}


def measure_verify(rounds: int) -> float:
    """Median seconds of one argon2id verify (a mismatch, as in a failed login)."""
    hasher = PasswordHasher(
        time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, type=Type.ID
    )
    hashed = hasher.hash(PASSWORD)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        with contextlib.suppress(VerifyMismatchError):  # the outcome of a failed login
            hasher.verify(hashed, WRONG)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument(
        "--database-url", default=None, help="default: a SQLite file in a temporary directory"
    )
    args = parser.parse_args()

    settings = {
        "ARGON2_MEMORY_KIB": str(MEMORY_KIB),
        "ARGON2_TIME_COST": str(TIME_COST),
        "ARGON2_PARALLELISM": str(PARALLELISM),
        # 100 failed logins from one client address in minutes: throttling must stay out
        # of the way, or the benchmark times 429s.
        "LOGIN_MAX_FAILURES": "100000",
        "ADDRESS_MAX_FAILURES": "100000",
    } | ({"DATABASE_URL": args.database_url} if args.database_url else {})
    verify_before = measure_verify(10)
    with running_server(**settings) as server:
        scenarios = measure_logins(server.base_url, args.pairs)
    verify_after = measure_verify(10)
    verify = statistics.median([verify_before, verify_after])
    budget = verify / 4

    ms = 1000
    print(f"argon2id m={MEMORY_KIB} KiB t={TIME_COST} p={PARALLELISM}; POST /api/v1/auth/login")
    print(f"one hash verify, median:      {verify * ms:8.2f} ms (a quarter: {budget * ms:.2f} ms)")
    for name, timings in scenarios.items():
        unknown_median = statistics.median(timings.unknown)
        wrong_median = statistics.median(timings.wrong)
        difference = unknown_median - wrong_median
        verdict = "yes" if abs(difference) < budget else "NO"
        print(f"{name}, {args.pairs} interleaved pairs:")
        print(f"  unknown e-mail, median:     {unknown_median * ms:8.2f} ms")
        print(f"  wrong password, median:     {wrong_median * ms:8.2f} ms")
        print(f"  difference (unknown - wrong): {difference * ms:+7.2f} ms")
        print(f"  |difference| < verify / 4: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
