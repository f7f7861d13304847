"""Under overload the service answers 503 with Retry-After, never a hanging request.

Not timed: the use case below never finishes, so any answer at all comes from the
request deadline; a broken deadline leaves the request hanging, which the test's own
generous guard turns into a failure. (How soon the 503 comes: bench/overload.py.)"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from dependency_injector import providers
from litestar.testing import AsyncTestClient

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings
from neodyme_app.container import build_container
from neodyme_app.http import create_app
from tests.unit.http.conftest import PASSWORD

GUARD = 30.0
"""Seconds after which a request that was not answered fails the test (it would hang)."""


class Stuck:
    """A use case that never finishes, like one waiting on a dead database; it notes when
    it is called and when it is cancelled."""

    def __init__(self) -> None:
        self.called = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def __call__(self, command: object) -> None:
        self.called.set()
        try:
            await asyncio.Event().wait()  # nothing ever sets it
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


async def test_a_request_past_its_deadline_gets_503_with_retry_after(settings: Settings) -> None:
    container = build_container(replace(settings, request_timeout=0.2))
    container.notifier.override(providers.Object(RecordingNotifier()))
    stuck = Stuck()
    container.register_user.override(providers.Object(stuck))
    body = {"email": "slow@example.com", "full_name": "Slow", "password": PASSWORD}

    async with AsyncTestClient(app=create_app(container)) as client:
        async with asyncio.timeout(GUARD):
            response = await client.post("/api/v1/auth/register", json=body)
        health = await client.get("/health")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["request_id"] == response.headers["x-request-id"]
    assert stuck.called.is_set()
    assert stuck.cancelled.is_set(), "the deadline cancels the work it gave up on"
    assert health.status_code == 200
