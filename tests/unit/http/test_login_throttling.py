"""Throttling over HTTP: 429 TOO_MANY_ATTEMPTS in the error envelope with ``Retry-After``,
and the client address that is counted (the socket peer; X-Forwarded-For only from
trusted proxies)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container
from neodyme_app.http import create_app
from tests.unit.http.conftest import PASSWORD

LOGIN = "/api/v1/auth/login"
FORGOT = "/api/v1/auth/forgot-password"
WRONG = "WrongPassword123!"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The login limits stay the defaults; the address ceiling is low, to reach it quickly.
    return replace(settings, address_max_failures=8)


def assert_too_many(response: Any) -> int:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "TOO_MANY_ATTEMPTS"
    assert error["request_id"] == response.headers["x-request-id"]
    retry_after = int(response.headers["retry-after"])
    assert error["details"] == {"retry_after": retry_after}
    return retry_after


async def login(client: Any, email: str, password: str = WRONG, **headers: str) -> Any:
    return await client.post(LOGIN, json={"email": email, "password": password}, headers=headers)


async def test_the_sixth_login_after_five_wrong_passwords_is_429_with_retry_after(
    client: Any, register: Any
) -> None:
    await register("locked@example.com")
    for _ in range(5):
        assert (await login(client, "locked@example.com")).status_code == 401

    response = await login(client, "locked@example.com", PASSWORD)

    assert assert_too_many(response) == 15 * 60


async def test_a_locked_unknown_address_answers_exactly_like_a_locked_account(
    client: Any, register: Any
) -> None:
    await register("known@example.com")
    for email in ("known@example.com", "unknown@example.com"):
        for _ in range(5):
            await login(client, email)

    known = await login(client, "known@example.com")
    unknown = await login(client, "unknown@example.com")

    assert assert_too_many(known) == assert_too_many(unknown)
    strip = {"request_id"}
    assert {k: v for k, v in known.json()["error"].items() if k not in strip} == {
        k: v for k, v in unknown.json()["error"].items() if k not in strip
    }


async def test_forgot_password_is_429_once_the_address_ceiling_is_reached(client: Any) -> None:
    for _ in range(8):
        assert (await client.post(FORGOT, json={"email": "a@example.com"})).status_code == 202

    response = await client.post(FORGOT, json={"email": "a@example.com"})

    assert assert_too_many(response) == 15 * 60


async def test_the_openapi_document_lists_429_for_login_and_forgot_password(client: Any) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    assert "429" in paths[LOGIN]["post"]["responses"]
    assert "429" in paths[FORGOT]["post"]["responses"]


# --- which client is counted ------------------------------------------------------------------


def as_peer(address: str, app: ASGIApp) -> ASGIApp:
    """The app as reached from ``address`` (the test client's peer is always "testclient")."""

    async def peer_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "client": (address, 50000)}  # type: ignore[assignment]
        await app(scope, receive, send)

    return peer_app


@pytest.fixture
def client_from(container: Container) -> Callable[[str], Any]:
    def client_from(peer: str) -> Any:
        return AsyncTestClient(app=as_peer(peer, create_app(container)))

    return client_from


def failed_login_addresses(container: Container) -> list[str | None]:
    events = container.memory_database().events
    return [event.client_ip for event in events if event.type == "login_failed"]


async def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(
    client_from: Callable[[str], Any], container: Container
) -> None:
    async with client_from("203.0.113.50") as client:
        for n in range(8):  # a spoofer's "different client" each time
            await login(client, f"v{n}@example.com", **{"X-Forwarded-For": f"192.0.2.{n}"})
        response = await login(client, "v9@example.com", **{"X-Forwarded-For": "192.0.2.99"})

    assert_too_many(response)
    assert set(failed_login_addresses(container)) == {"203.0.113.50"}


@pytest.fixture
async def proxied(
    settings: Settings, notifier: RecordingNotifier
) -> AsyncIterator[tuple[Any, Container]]:
    """A client reaching the app through a reverse proxy at 10.1.2.3, which is trusted."""
    container = build_container(replace(settings, trusted_proxies="10.0.0.0/8"))
    container.notifier.override(providers.Object(notifier))
    async with AsyncTestClient(app=as_peer("10.1.2.3", create_app(container))) as client:
        yield client, container


async def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(
    proxied: tuple[Any, Container],
) -> None:
    client, container = proxied
    a, b = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}
    for n in range(8):
        assert (await login(client, f"v{n}@example.com", **a)).status_code == 401

    assert_too_many(await login(client, "v9@example.com", **a))
    assert (await login(client, "v9@example.com", **b)).status_code == 401
    # Client a claiming to be b: the proxy appends a's address, and only that is believed.
    assert_too_many(
        await login(client, "v9@example.com", **{"X-Forwarded-For": "198.51.100.2, 198.51.100.1"})
    )
    # Through a second, inner trusted proxy.
    inner = {"X-Forwarded-For": "198.51.100.3, 10.9.9.9"}
    assert (await login(client, "v9@example.com", **inner)).status_code == 401
    assert failed_login_addresses(container)[-4:] == [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.1",
        "198.51.100.3",
    ]
