"""/.well-known/jwks.json, /.well-known/openid-configuration and RFC 7662 introspection
through the test client, on EdDSA tokens."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from typing import Any

import jwt
import pytest
from litestar.testing import AsyncTestClient

from neodyme_app.config import JwtAlgorithm, Settings

SECRET = "a-resource-servers-secret-0123456789"
INTROSPECT = "/api/v1/auth/introspect"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    entry = "orders:" + hashlib.sha256(SECRET.encode()).hexdigest()
    return replace(settings, jwt_algorithm=JwtAlgorithm.EDDSA, introspection_clients=entry)


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def test_the_jwks_publishes_the_key_that_signs_and_may_be_cached(
    client: AsyncTestClient[Any], register: Any
) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert response.headers["cache-control"] == "public, max-age=20"
    [key] = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert "d" not in key

    token = (await register("jwks@example.com")).json()["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    claims = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience="neodyme-api", issuer="neodyme"
    )
    assert claims["type"] == "access"


async def test_the_metadata_names_the_issuer_the_keys_and_introspection(
    client: AsyncTestClient[Any], settings: Settings
) -> None:
    metadata = (await client.get("/.well-known/openid-configuration")).json()
    base = settings.public_url
    assert metadata == {
        "issuer": settings.jwt_issuer,
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "introspection_endpoint": f"{base}{INTROSPECT}",
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
    }


async def test_introspection_answers_a_live_tokens_claims_and_nothing_for_a_dead_one(
    client: AsyncTestClient[Any], register: Any
) -> None:
    session = (await register("live@example.com")).json()
    live = await client.post(
        INTROSPECT, data={"token": session["access_token"]}, headers=basic("orders", SECRET)
    )
    assert live.status_code == 200, live.text
    assert live.headers["cache-control"] == "no-store"
    claims = live.json()
    assert claims["active"] is True
    assert claims["sub"] == session["user"]["id"]
    assert {"exp", "iat", "sid", "scope"} <= set(claims)

    await client.post("/api/v1/auth/logout", json={"refresh_token": session["refresh_token"]})
    dead = await client.post(
        INTROSPECT, data={"token": session["access_token"]}, headers=basic("orders", SECRET)
    )
    assert dead.json() == {"active": False}
    garbage = await client.post(INTROSPECT, data={"token": "x"}, headers=basic("orders", SECRET))
    assert garbage.json() == {"active": False}


@pytest.mark.parametrize(
    "headers",
    [{}, basic("orders", "wrong"), basic("nobody", SECRET), {"Authorization": "Basic %%%"}],
)
async def test_a_caller_without_the_right_credentials_is_401_basic(
    client: AsyncTestClient[Any], headers: dict[str, str]
) -> None:
    response = await client.post(INTROSPECT, data={"token": "x"}, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Basic realm="neodyme"'
    assert response.json()["error"]["code"] == "INVALID_CLIENT"
    assert SECRET not in response.text


async def test_a_json_body_or_no_token_is_a_clear_4xx(client: AsyncTestClient[Any]) -> None:
    as_json = await client.post(INTROSPECT, json={"token": "x"}, headers=basic("orders", SECRET))
    assert 400 <= as_json.status_code < 500
    assert "error" in as_json.json()
    empty = await client.post(INTROSPECT, data={}, headers=basic("orders", SECRET))
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "VALIDATION_ERROR"
