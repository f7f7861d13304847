"""The HTTP app through Litestar's test client, on a container with in-memory storage and
a recording notifier: no network, no disk, real use cases and real (cheap) hashing.

Each test has a container of its own (its own in-memory database, hasher, dispatcher,
notifier); the Litestar app in front of it is built once per settings (``serving``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container
from neodyme_app.http import create_app
from tests.support.builders import a_person

PASSWORD = "SecurePassword123!"


@pytest.fixture
def container(settings: Settings, notifier: RecordingNotifier) -> Container:
    container = build_container(settings)
    container.notifier.override(providers.Object(notifier))
    return container


_apps: dict[Settings, tuple[Container, Litestar]] = {}


@contextmanager
def serving(container: Container) -> Iterator[Litestar]:
    """The app of ``container``'s settings, serving ``container`` until the block ends.

    Building a Litestar app (some 40 routes: their signatures, dependencies and OpenAPI
    responses) costs more than most tests that use it, and what it builds depends only on
    the settings. So each settings get one app, made on a container of its own that serves
    nothing itself: while a test runs, every provider of that container is overridden by
    the test's (``Container.override``), so the app's handlers, lifespan hooks and
    dependencies reach the test's database, hasher, dispatcher and notifier, and only those.
    Tests that override a provider of their container (a broken use case) still can.
    """
    settings = container.settings()
    if settings not in _apps:
        served = build_container(settings)
        _apps[settings] = (served, create_app(served))
    served, app = _apps[settings]
    served.override(container)
    try:
        yield app
    finally:
        served.reset_last_overriding()


@pytest.fixture
async def client(container: Container) -> AsyncIterator[AsyncTestClient[Any]]:
    with serving(container) as app:
        async with AsyncTestClient(app=app) as client:
            yield client


@pytest.fixture
def register(client: AsyncTestClient[Any]) -> Callable[..., Any]:
    """POST /auth/register with sensible defaults (the name of an invented person);
    returns the response."""

    async def register(email: str, password: str = PASSWORD, full_name: str | None = None) -> Any:
        name = a_person().full_name if full_name is None else full_name
        return await client.post(
            "/api/v1/auth/register", json={"email": email, "full_name": name, "password": password}
        )

    return register


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for background work (the outbox dispatcher) without sleeping a fixed time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
