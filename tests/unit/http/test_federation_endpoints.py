"""/api/v1/auth/oidc and /api/v1/users/me/identities through the test client, with the
in-memory provider in place of a real one (the e2e tier has the real one)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from neodyme_adapters.memory import RecordingNotifier
from neodyme_adapters.memory.identity_providers import InMemoryIdentityProviders
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container
from neodyme_domain.federation.model import ProviderInfo
from tests.unit.http.conftest import PASSWORD

APP_CALLBACK = "https://app.example/callback"
OIDC = "/api/v1/auth/oidc"
IDENTITIES = "/api/v1/users/me/identities"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, oidc_redirect_uris=APP_CALLBACK)


@pytest.fixture
def idp() -> InMemoryIdentityProviders:
    return InMemoryIdentityProviders([ProviderInfo("acme", "Acme ID")])


@pytest.fixture
def container(
    settings: Settings, notifier: RecordingNotifier, idp: InMemoryIdentityProviders
) -> Container:
    container = build_container(settings)
    container.notifier.override(providers.Object(notifier))
    container.identity_providers.override(providers.Object(idp))
    return container


async def signed_in_through(
    client: AsyncTestClient[Any],
    idp: InMemoryIdentityProviders,
    *,
    subject: str = "acme-1",
    email: str = "fed@example.com",
    verified: bool = True,
) -> Any:
    started = await client.post(f"{OIDC}/acme/authorize", json={"redirect_uri": APP_CALLBACK})
    assert started.status_code == 200, started.text
    body = started.json()
    code = idp.sign_in(
        body["authorization_url"], subject=subject, email=email, email_verified=verified
    )
    return await client.post(f"{OIDC}/acme/callback", json={"code": code, "state": body["state"]})


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "details", "request_id"}
    return dict(error)


async def test_the_providers_are_listed(client: AsyncTestClient[Any]) -> None:
    response = await client.get(f"{OIDC}/providers")
    assert response.json() == {"items": [{"name": "acme", "title": "Acme ID"}]}


async def test_a_redirect_uri_not_in_the_settings_is_refused(
    client: AsyncTestClient[Any],
) -> None:
    body = {"redirect_uri": "https://evil.example/callback"}
    error = error_of(
        await client.post(f"{OIDC}/acme/authorize", json=body), 422, "VALIDATION_ERROR"
    )
    assert error["details"]["fields"][0]["field"] == "redirect_uri"


async def test_a_sign_in_gives_a_session_and_its_callback_cannot_be_replayed(
    client: AsyncTestClient[Any], idp: InMemoryIdentityProviders
) -> None:
    started = await client.post(f"{OIDC}/acme/authorize", json={"redirect_uri": APP_CALLBACK})
    body = started.json()
    assert started.headers["cache-control"] == "no-store"
    assert body["expires_in"] == 600
    code = idp.sign_in(body["authorization_url"], subject="acme-1", email="fed@example.com")
    answer = {"code": code, "state": body["state"]}

    session = await client.post(f"{OIDC}/acme/callback", json=answer)
    assert session.status_code == 200, session.text
    assert session.json()["user"]["email"] == "fed@example.com"
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {session.json()['access_token']}"}
    )
    assert me.status_code == 200
    error_of(await client.post(f"{OIDC}/acme/callback", json=answer), 400, "FEDERATION_REFUSED")


async def test_an_unverified_address_is_403_and_an_unknown_provider_404(
    client: AsyncTestClient[Any], idp: InMemoryIdentityProviders
) -> None:
    error_of(await signed_in_through(client, idp, verified=False), 403, "PROVIDER_EMAIL_UNVERIFIED")
    body = {"redirect_uri": APP_CALLBACK}
    error_of(await client.post(f"{OIDC}/nobody/authorize", json=body), 404, "PROVIDER_NOT_FOUND")


async def test_a_provider_that_is_down_is_503_with_retry_after(
    client: AsyncTestClient[Any], idp: InMemoryIdentityProviders
) -> None:
    idp.down.add("acme")
    response = await client.post(f"{OIDC}/acme/authorize", json={"redirect_uri": APP_CALLBACK})
    error_of(response, 503, "PROVIDER_UNAVAILABLE")
    assert int(response.headers["retry-after"]) > 0


async def test_a_held_address_links_with_its_password_then_unlinks(
    client: AsyncTestClient[Any], idp: InMemoryIdentityProviders, register: Any
) -> None:
    assert (await register("held@example.com")).status_code == 201
    asked = error_of(
        await signed_in_through(client, idp, email="held@example.com"), 409, "LINK_REQUIRED"
    )
    assert set(asked["details"]) == {"link_token", "provider", "email", "expires_in"}
    body = {"link_token": asked["details"]["link_token"], "password": PASSWORD}
    linked = await client.post(f"{OIDC}/link", json=body)
    assert linked.status_code == 200, linked.text
    auth = {"Authorization": f"Bearer {linked.json()['access_token']}"}

    [identity] = (await client.get(IDENTITIES, headers=auth)).json()["items"]
    assert (identity["provider"], identity["email"]) == ("acme", "held@example.com")
    assert (await client.delete(f"{IDENTITIES}/{identity['id']}", headers=auth)).status_code == 204
    error_of(
        await client.delete(f"{IDENTITIES}/{identity['id']}", headers=auth),
        404,
        "IDENTITY_NOT_FOUND",
    )
    error_of(await client.delete(f"{IDENTITIES}/not-a-uuid", headers=auth), 422, "VALIDATION_ERROR")


async def test_the_only_way_in_cannot_be_unlinked(
    client: AsyncTestClient[Any], idp: InMemoryIdentityProviders
) -> None:
    session = (await signed_in_through(client, idp)).json()
    auth = {"Authorization": f"Bearer {session['access_token']}"}
    [identity] = (await client.get(IDENTITIES, headers=auth)).json()["items"]
    error_of(
        await client.delete(f"{IDENTITIES}/{identity['id']}", headers=auth),
        409,
        "LAST_SIGN_IN_METHOD",
    )
    assert (await client.get(IDENTITIES)).status_code == 401
