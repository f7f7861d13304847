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

    .venv/bin/python bench/enumeration_timing.py [--pairs 50] [--database-url URL]

It prints figures and exits 0 either way (exit 1 only if the server misbehaves): timing
on a shared machine is evidence for a person to read, not a test to pass or fail.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerifyMismatchError

NEODYME = Path(sys.executable).parent / "neodyme"
MEMORY_KIB, TIME_COST, PARALLELISM = 19456, 2, 1  # api.md's production settings
PASSWORD = "BenchPassword123!"
WRONG = "WrongPassword123!"
WARMUP = 5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEODYME_")}
    env.update(
        PYTHONUNBUFFERED="1",
        NEODYME_ENVIRONMENT="testing",
        NEODYME_DATABASE_URL=database_url,
        NEODYME_SECRET_KEY=secrets.token_urlsafe(48),
        NEODYME_ARGON2_MEMORY_KIB=str(MEMORY_KIB),
        NEODYME_ARGON2_TIME_COST=str(TIME_COST),
        NEODYME_ARGON2_PARALLELISM=str(PARALLELISM),
        NEODYME_LOG_LEVEL="WARNING",
        # 100 failed logins from one client address in minutes: throttling (when present)
        # must stay out of the way, or the benchmark times 429s.
        NEODYME_LOGIN_MAX_FAILURES="100000",
        NEODYME_ADDRESS_MAX_FAILURES="100000",
    )
    return env


@contextmanager
def running_server(database_url: str | None) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="neodyme-bench-") as workdir:
        url = database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"
        env = _server_env(url)
        subprocess.run(
            [NEODYME, "db", "upgrade"], env=env, cwd=workdir, check=True, capture_output=True
        )
        port = _free_port()
        log_path = Path(workdir) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [NEODYME, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(process, base_url, log_path)
            yield base_url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 20
    with httpx.Client(base_url=base_url, timeout=1, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
    raise SystemExit(f"neodyme serve did not come up; its log:\n{log.read_text()}")


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

    verify_before = measure_verify(10)
    with running_server(args.database_url) as base_url:
        scenarios = measure_logins(base_url, args.pairs)
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
