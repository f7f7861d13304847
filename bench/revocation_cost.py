"""What does immediate revocation cost on GET /auth/me?

neodyme checks every access token against the user's row (exists, active, token_version
unchanged), so deactivation, password changes and deletion take effect on the next
request. A purely stateless JWT check would only verify the signature. This benchmark
times both in-process, on the same token, for each storage backend:

    .venv/bin/python -m bench.revocation_cost [--calls 3000]

PostgreSQL is NEODYME_BENCH_DATABASE_URL (default: a scratch database on
postgresql+psycopg://postgres@127.0.0.1:5432/test, created and dropped by the run: see
``bench.server.postgres_database``); it is left out, with a note, when no server answers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.server import DEFAULT_POSTGRES, postgres_database
from neodyme_app.config import Environment, Settings
from neodyme_app.embedded import open_neodyme
from neodyme_domain.use_cases import CurrentUserQuery, RegisterCommand


async def per_call_us(fn: Callable[[], Awaitable[object]], calls: int) -> float:
    """Median of 5 rounds of ``calls`` calls, in microseconds per call."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            await fn()
        rounds.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(rounds)


async def measure(database_url: str, calls: int) -> tuple[float, float]:
    settings = Settings(
        environment=Environment.TESTING,
        database_url=database_url,
        secret_key="benchmark-secret-benchmark-secret-0123",
        argon2_memory_kib=64,
        argon2_time_cost=1,
    )
    async with open_neodyme(settings) as neodyme:
        registered = await neodyme.register_user()(
            RegisterCommand("bench@example.com", "Bench", "Password123!")
        )
        token = registered.tokens.access_token
        tokens, current_user = neodyme.tokens(), neodyme.get_current_user()
        query = CurrentUserQuery(token)

        async def stateless() -> object:
            return tokens.decode_access(token)

        async def revocable() -> object:
            return await current_user(query)

        await per_call_us(revocable, 50)  # warm the pool and caches
        return await per_call_us(stateless, calls), await per_call_us(revocable, calls)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as scratch,
        postgres_database("neodyme_bench_revocation") as pg,
    ):
        backends = {
            "memory": "memory://",
            "sqlite": f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}",
        }
        if pg:
            backends["postgresql"] = pg
        print(f"{'backend':12} {'signature only':>16} {'+ user lookup':>15} {'cost':>10}  ratio")
        for name, url in backends.items():
            stateless, revocable = await measure(url, args.calls)
            print(
                f"{name:12} {stateless:13.1f} us {revocable:12.1f} us"
                f" {revocable - stateless:7.1f} us  {revocable / stateless:4.1f}x"
            )
        if pg is None:
            print("postgresql: no server at", DEFAULT_POSTGRES, "(set NEODYME_BENCH_DATABASE_URL)")


if __name__ == "__main__":
    asyncio.run(main())
