"""Overload behaviour with production argon2 parameters (19 MiB, t=2, p=1):

1. GET /health latency while registrations saturate the hasher (32 clients registering
   as fast as they can, in another process): the event loop must never be blocked.
2. 200 concurrent logins: every answer is a 200 or a fast 503 with Retry-After (the hash
   queue is bounded), nothing hangs, memory stays bounded, and the service recovers.

    .venv/bin/python -m bench.overload [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
import uuid
from collections import Counter

import httpx

from bench.server import peak_rss_mib, running_server

PASSWORD = "Overload-Password-1!"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _register_forever(base_url: str, clients: int, seconds: float) -> Counter[int]:
    statuses: Counter[int] = Counter()
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one_client() -> None:
            while time.monotonic() < stop:
                response = await client.post(
                    "/api/v1/auth/register",
                    json={
                        "email": f"{uuid.uuid4().hex}@example.com",
                        "full_name": "Load",
                        "password": PASSWORD,
                    },
                )
                statuses[response.status_code] += 1

        await asyncio.gather(*(one_client() for _ in range(clients)))
    return statuses


def _load_process(base_url: str, clients: int, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(dict(asyncio.run(_register_forever(base_url, clients, seconds))))


async def health_while_saturated(base_url: str, seconds: float) -> None:
    results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    loader = multiprocessing.Process(target=_load_process, args=(base_url, 32, seconds, results))
    loader.start()
    await asyncio.sleep(1)  # let the load build up
    latencies = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        stop = time.monotonic() + seconds - 2
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = await client.get("/health")
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            await asyncio.sleep(0.02)
    statuses = results.get()
    loader.join()
    print(f"registrations during the run: {statuses} ({sum(statuses.values()) / seconds:.0f}/s)")
    print(
        f"GET /health while the hasher is saturated ({len(latencies)} probes): "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
        f"max {max(latencies):.1f} ms  (target p99 < 50 ms)"
    )


async def concurrent_logins(base_url: str, pid: int, count: int) -> None:
    async with httpx.AsyncClient(
        base_url=base_url, timeout=60, limits=httpx.Limits(max_connections=count)
    ) as client:
        email = f"{uuid.uuid4().hex}@example.com"
        await client.post(
            "/api/v1/auth/register",
            json={"email": email, "full_name": "Many Logins", "password": PASSWORD},
        )
        before = peak_rss_mib(pid)

        async def login() -> tuple[int, float, str | None]:
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            return (
                response.status_code,
                time.perf_counter() - started,
                response.headers.get("retry-after"),
            )

        answers = await asyncio.gather(*(login() for _ in range(count)))
        after = peak_rss_mib(pid)
        statuses = Counter(status for status, _, _ in answers)
        slowest = max(duration for _, duration, _ in answers)
        refused = [d for s, d, _ in answers if s == 503]
        retry_after = {r for s, _, r in answers if s == 503}
        recovered = await login()
    print(
        f"{count} concurrent logins: {dict(statuses)}; slowest answer {slowest:.2f} s; "
        f"503s answered within {max(refused, default=0):.2f} s"
        f" with Retry-After {retry_after or '-'}"
    )
    print(f"server peak RSS: {before:.0f} MiB before, {after:.0f} MiB after the burst")
    print(f"a login right after the burst: HTTP {recovered[0]} in {recovered[1] * 1000:.0f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with running_server() as server:
        await health_while_saturated(server.base_url, args.seconds)
        await concurrent_logins(server.base_url, server.pid, 200)


if __name__ == "__main__":
    asyncio.run(main())
