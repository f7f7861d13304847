"""Overload: a login storm gets 503s with Retry-After, never hanging requests, and the
service recovers at once. Nothing is timed: every request must be answered at all (a
hanging one fails at the client's deadline, far beyond the server's request timeout);
latency figures are printed by bench/overload.py, not asserted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.support.server import free_port, migrate, server_env, start_server

PASSWORD = "Storm-Password-1!"
REQUEST_TIMEOUT = 5.0


async def test_a_login_storm_is_answered_with_fast_503s_and_the_service_recovers(
    tmp_path: Path,
) -> None:
    env = server_env(
        f"sqlite+aiosqlite:///{tmp_path}/overload.db",
        "127.0.0.1",
        free_port(),  # no mail server: the welcome e-mail just waits in the outbox
        argon2_memory_kib="8192",
        argon2_time_cost="2",
        hash_concurrency="1",
        hash_queue_limit="4",
        request_timeout=str(REQUEST_TIMEOUT),
    )
    migrate(env, tmp_path)
    limits = httpx.Limits(max_connections=200)
    with start_server(env, tmp_path) as server:
        async with httpx.AsyncClient(
            base_url=server.base_url, timeout=60, limits=limits, trust_env=False
        ) as client:
            credentials = {"email": "storm@example.com", "password": PASSWORD}
            registered = await client.post(
                "/api/v1/auth/register", json=credentials | {"full_name": "Storm"}
            )
            assert registered.status_code == 201

            async def login() -> httpx.Response:
                return await client.post("/api/v1/auth/login", json=credentials)

            answers = await asyncio.gather(*(login() for _ in range(200)))
            after = await login()

    statuses = [response.status_code for response in answers]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 1
    refused = [response for response in answers if response.status_code == 503]
    assert refused, "the hash queue is bounded: a storm of 200 must be partly refused"
    for response in refused:
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert after.status_code == 200
