"""Overload behaviour with production argon2 parameters (19 MiB, t=2, p=1):

1. GET /health latency while registrations saturate the hasher (32 wrk connections
   registering as fast as they can): the event loop must never be blocked.
2. 200 concurrent logins: every answer is a 200 or a fast 503 with Retry-After (the hash
   queue is bounded), nothing hangs, memory stays bounded, and the service recovers.

    .venv/bin/python -m bench.overload [--seconds 10]     (needs wrk: apt install wrk)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections import Counter

import httpx

from bench import load
from bench.server import peak_rss_mib, reset_peak_rss, running_server

PASSWORD = "Overload-Password-1!"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def health_while_saturated(base_url: str, seconds: int) -> dict[str, object]:
    """GET /health every 20 ms while 32 wrk connections register as fast as they can."""
    args = ["/api/v1/auth/register", uuid.uuid4().hex[:12], PASSWORD]
    loader = await asyncio.create_subprocess_exec(
        *load.command(base_url, load.SCRIPTS["register"], args, 32, seconds),
        stdout=asyncio.subprocess.PIPE,
    )
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
    registrations = load.parse((await loader.communicate())[0].decode(), 32)
    return {
        "registrations": registrations["statuses"],
        "registrations_per_s": registrations["rps"],
        "probes": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
    }


async def concurrent_logins(base_url: str, pid: int, count: int) -> dict[str, object]:
    """``count`` logins at once; the server's peak RSS (VmHWM, reset just before)."""
    async with httpx.AsyncClient(
        base_url=base_url, timeout=60, limits=httpx.Limits(max_connections=count)
    ) as client:
        email = f"{uuid.uuid4().hex}@example.com"
        await client.post(
            "/api/v1/auth/register",
            json={"email": email, "full_name": "Many Logins", "password": PASSWORD},
        )
        reset_peak_rss(pid)
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
        recovered = await login()
    return {
        "statuses": dict(Counter(status for status, _, _ in answers)),
        "slowest_s": max(duration for _, duration, _ in answers),
        "slowest_503_s": max((d for s, d, _ in answers if s == 503), default=0),
        "retry_after": sorted({r for s, _, r in answers if s == 503 and r}),
        "rss_before_mib": before,
        "peak_rss_mib": after,
        "after_status": recovered[0],
        "after_ms": recovered[1] * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with running_server() as server:
        health = await health_while_saturated(server.base_url, args.seconds)
        logins = await concurrent_logins(server.base_url, server.pid, 200)
    print(
        f"registrations during the run: {health['registrations']}"
        f" ({health['registrations_per_s']:.0f}/s)"
    )
    print(
        f"GET /health while the hasher is saturated ({health['probes']} probes): "
        f"p50 {health['p50_ms']:.1f} ms, p99 {health['p99_ms']:.1f} ms, "
        f"max {health['max_ms']:.1f} ms  (target p99 < 20 ms)"
    )
    print(
        f"200 concurrent logins: {logins['statuses']}; slowest answer"
        f" {logins['slowest_s']:.2f} s; 503s answered within {logins['slowest_503_s']:.2f} s"
        f" with Retry-After {logins['retry_after'] or '-'}"
    )
    print(
        f"server peak RSS: {logins['rss_before_mib']:.0f} MiB before, "
        f"{logins['peak_rss_mib']:.0f} MiB during the burst"
    )
    print(
        f"a login right after the burst: HTTP {logins['after_status']}"
        f" in {logins['after_ms']:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
