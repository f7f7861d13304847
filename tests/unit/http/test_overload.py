"""Under overload the service answers fast 503s with Retry-After, never a hanging request."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from dependency_injector import providers
from litestar.testing import AsyncTestClient

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings
from neodyme_app.container import build_container
from neodyme_app.http import create_app
from tests.unit.http.conftest import PASSWORD


class Stuck:
    """A use case that never finishes, like one waiting on a dead database."""

    async def __call__(self, command: object) -> None:
        await asyncio.sleep(60)


async def test_a_request_past_its_deadline_gets_503_with_retry_after(settings: Settings) -> None:
    container = build_container(replace(settings, request_timeout=0.2))
    container.notifier.override(providers.Object(RecordingNotifier()))
    container.register_user.override(providers.Factory(Stuck))
    body = {"email": "slow@example.com", "full_name": "Slow", "password": PASSWORD}

    async with AsyncTestClient(app=create_app(container)) as client:
        started = time.monotonic()
        response = await client.post("/api/v1/auth/register", json=body)
        elapsed = time.monotonic() - started
        health = await client.get("/health")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["request_id"] == response.headers["x-request-id"]
    assert elapsed < 5
    assert health.status_code == 200
