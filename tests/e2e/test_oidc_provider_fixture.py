"""The test OpenID provider itself (tests/support/oidc_provider.py), without neodyme: what
the federation tests take for granted, proven here as a relying party would see it, so a
federation failure points at neodyme and not at the fixture.

The relying party is written out in the test: authlib's OAuth 2 parameters (the
authorization request with PKCE, the token request, ``client_secret_basic`` or
``client_secret_post``) over httpx, as neodyme does (authlib's own httpx client wants the
``httpx2`` fork), and the ID token verified by PyJWT against the published JWKS: another
library than neodyme's joserfc, so the two do not share a mistake.

The ID token carries ``sub``, ``nonce`` and the protocol claims; ``email``,
``email_verified`` and ``name`` come from the userinfo endpoint, as oidc-provider does by
default for the code flow (``conformIdTokenClaims``), and neodyme reads them there.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.support.oidc_provider import OidcProvider

CALLBACK = "http://127.0.0.1:9/rp/callback"
"""The relying party's redirect URI: nothing listens there, the test reads the redirect."""
SCOPE = "openid email profile"


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[OidcProvider]:
    """One provider per xdist worker that runs tests of this module."""
    with OidcProvider([CALLBACK]) as provider:
        yield provider


@pytest.fixture
def provider(oidc_provider: OidcProvider) -> OidcProvider:
    """The module's provider back at its defaults (Alice, the real keys, the true clock)."""
    oidc_provider.reset()
    return oidc_provider


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """The user agent: keeps the provider's cookies, follows no redirect by itself."""
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        yield client


@dataclass(frozen=True, slots=True)
class Request:
    """One authorization request, with what the relying party kept to finish it."""

    url: str
    state: str
    nonce: str
    code_verifier: str


async def discover(browser: httpx.AsyncClient, issuer: str) -> dict[str, Any]:
    response = await browser.get(f"{issuer}/.well-known/openid-configuration")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def authorization_request(
    metadata: dict[str, Any], client_id: str, *, pkce: bool = True
) -> Request:
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    challenge = (
        {"code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
        if pkce
        else {}
    )
    url = prepare_grant_uri(
        metadata["authorization_endpoint"],
        client_id=client_id,
        response_type="code",
        redirect_uri=CALLBACK,
        scope=SCOPE,
        state=state,
        nonce=nonce,
        **challenge,
    )
    return Request(url, state, nonce, verifier)


FORM = re.compile(r'<form method="post" action="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def follow(browser: httpx.AsyncClient, url: str) -> dict[str, str]:
    """What a browser does: follow the provider's redirects, and submit the self-submitting
    form it answers with when it ends a session of another account, until it sends the
    user back to ``CALLBACK``; the parameters it carries there."""
    response = await browser.get(url)
    while not response.headers.get("location", "").startswith(CALLBACK):
        form = FORM.search(response.text) if response.status_code == 200 else None
        if form is not None:
            fields = {name: html.unescape(value) for name, value in HIDDEN.findall(response.text)}
            response = await browser.post(html.unescape(form[1]), data=fields)
            continue
        assert response.status_code in {302, 303}, response.text[:500]
        response = await browser.get(response.url.join(response.headers["location"]))
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {name: values[0] for name, values in query.items()}


async def exchange(
    browser: httpx.AsyncClient,
    metadata: dict[str, Any],
    provider: OidcProvider,
    code: str,
    code_verifier: str,
    *,
    secret: str | None = None,
    method: str = "client_secret_basic",
) -> httpx.Response:
    """The token request of the provider's client (with another ``secret`` if given)."""
    client_id, secret = provider.client_id, secret or provider.client_secret
    body = prepare_token_request(
        "authorization_code", code=code, redirect_uri=CALLBACK, code_verifier=code_verifier
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    url, headers, body = ClientAuth(client_id, secret, method).prepare(
        "POST", metadata["token_endpoint"], headers, body
    )
    return await browser.post(url, headers=headers, content=body)


async def sign_in(
    browser: httpx.AsyncClient, provider: OidcProvider
) -> tuple[dict[str, Any], Request, dict[str, Any]]:
    """A whole sign-in: the metadata, the request and the token endpoint's answer."""
    metadata = await discover(browser, provider.issuer)
    request = authorization_request(metadata, provider.client_id)
    answer = await follow(browser, request.url)
    assert answer["state"] == request.state
    response = await exchange(browser, metadata, provider, answer["code"], request.code_verifier)
    assert response.status_code == 200, response.text
    return metadata, request, response.json()


async def published_key(
    browser: httpx.AsyncClient, metadata: dict[str, Any], id_token: str
) -> jwt.PyJWK:
    """The key of the provider's JWKS that the ID token names (``kid``). PyJWKSet, not
    PyJWKClient: that one fetches with urllib, which obeys proxy variables."""
    response = await browser.get(metadata["jwks_uri"])
    assert response.status_code == 200, response.text
    kid = jwt.get_unverified_header(id_token)["kid"]
    return jwt.PyJWKSet.from_dict(response.json())[kid]


async def userinfo(
    browser: httpx.AsyncClient, metadata: dict[str, Any], access_token: str
) -> dict[str, Any]:
    response = await browser.get(
        metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}
    )
    assert response.status_code == 200, response.text
    claims: dict[str, Any] = response.json()
    return claims


def verify(id_token: str, key: jwt.PyJWK, provider: OidcProvider) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key,
        algorithms=["RS256"],
        audience=provider.client_id,
        issuer=provider.issuer,
        options={"require": ["exp", "iat", "sub", "nonce"]},
    )
    return claims


async def test_its_discovery_document_names_the_issuer_and_its_endpoints(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    metadata = await discover(browser, provider.issuer)

    assert metadata["issuer"] == provider.issuer
    assert provider.issuer.startswith("http://127.0.0.1:")
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        assert metadata[endpoint].startswith(f"{provider.issuer}/")
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "email", "profile"} <= set(metadata["scopes_supported"])
    assert {"sub", "email", "email_verified", "name"} <= set(metadata["claims_supported"])
    assert {"client_secret_basic", "client_secret_post"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]


async def test_a_code_flow_with_pkce_signs_in_the_account_set(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    provider.set_account("bob-sub", "bob@example.com", email_verified=False, name="Bob")

    metadata, request, token = await sign_in(browser, provider)

    assert token["token_type"].lower() == "bearer"
    key = await published_key(browser, metadata, token["id_token"])
    claims = verify(token["id_token"], key, provider)
    assert (claims["sub"], claims["nonce"]) == ("bob-sub", request.nonce)
    assert claims["exp"] > claims["iat"]
    profile = await userinfo(browser, metadata, token["access_token"])
    assert profile == {
        "sub": "bob-sub",
        "email": "bob@example.com",
        "email_verified": False,
        "name": "Bob",
    }


async def test_a_replayed_code_is_refused(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    metadata = await discover(browser, provider.issuer)
    request = authorization_request(metadata, provider.client_id)
    answer = await follow(browser, request.url)
    first = await exchange(browser, metadata, provider, answer["code"], request.code_verifier)
    assert first.status_code == 200, first.text

    again = await exchange(browser, metadata, provider, answer["code"], request.code_verifier)

    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


async def test_a_wrong_client_secret_or_code_verifier_is_refused(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    metadata = await discover(browser, provider.issuer)
    request = authorization_request(metadata, provider.client_id)
    code = (await follow(browser, request.url))["code"]

    refused = await exchange(
        browser, metadata, provider, code, request.code_verifier, secret="not-the-secret"
    )
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")

    wrong_verifier = await exchange(browser, metadata, provider, code, secrets.token_urlsafe(48))
    assert (wrong_verifier.status_code, wrong_verifier.json()["error"]) == (400, "invalid_grant")


async def test_the_client_may_authenticate_with_client_secret_post_too(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    metadata = await discover(browser, provider.issuer)
    request = authorization_request(metadata, provider.client_id)
    code = (await follow(browser, request.url))["code"]

    response = await exchange(
        browser, metadata, provider, code, request.code_verifier, method="client_secret_post"
    )

    assert response.status_code == 200, response.text
    key = await published_key(browser, metadata, response.json()["id_token"])
    assert verify(response.json()["id_token"], key, provider)["nonce"] == request.nonce


async def test_an_authorization_request_without_pkce_is_refused(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    metadata = await discover(browser, provider.issuer)
    request = authorization_request(metadata, provider.client_id, pkce=False)

    answer = await follow(browser, request.url)

    assert answer["error"] == "invalid_request"
    assert "PKCE" in answer["error_description"]
    assert "code" not in answer


async def test_reset_signs_in_alice_again_and_answer_walks_the_redirects(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    provider.set_account("carol-sub", "carol@example.com", name="Carol")
    provider.reset()
    metadata = await discover(browser, provider.issuer)
    request = authorization_request(metadata, provider.client_id)

    answer = provider.answer(request.url, CALLBACK)  # the fixture's own walk, as others use it

    assert (answer["state"], answer["iss"]) == (request.state, provider.issuer)
    response = await exchange(browser, metadata, provider, answer["code"], request.code_verifier)
    profile = await userinfo(browser, metadata, response.json()["access_token"])
    assert profile == {
        "sub": "alice-sub",
        "email": "alice@example.com",
        "email_verified": True,
        "name": "Alice",
    }


async def test_a_browser_that_keeps_its_session_signs_in_as_the_account_set_since(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    provider.set_account("dave-sub", "dave@example.com", name="Dave")
    await sign_in(browser, provider)
    assert "_session" in browser.cookies  # the provider's, which the next sign-in presents

    provider.set_account("erin-sub", "erin@example.com", name="Erin")
    metadata, _, token = await sign_in(browser, provider)

    assert jwt.decode(token["id_token"], options={"verify_signature": False})["sub"] == "erin-sub"
    profile = await userinfo(browser, metadata, token["access_token"])
    assert profile["email"] == "erin@example.com"


async def test_with_decoy_keys_the_id_token_fails_against_the_published_jwks(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    provider.decoy_keys(True)
    metadata, _, token = await sign_in(browser, provider)

    decoy = await published_key(browser, metadata, token["id_token"])  # same kid: found
    with pytest.raises(jwt.InvalidSignatureError):
        verify(token["id_token"], decoy, provider)

    provider.decoy_keys(False)  # the token itself was sound: the real key verifies it
    real = await published_key(browser, metadata, token["id_token"])
    assert verify(token["id_token"], real, provider)["sub"] == "alice-sub"


async def test_with_the_clock_two_hours_behind_the_id_token_comes_out_expired(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    provider.clock_offset(-7200)
    metadata, _, token = await sign_in(browser, provider)
    key = await published_key(browser, metadata, token["id_token"])

    with pytest.raises(jwt.ExpiredSignatureError):
        verify(token["id_token"], key, provider)
    claims = jwt.decode(
        token["id_token"],
        key,
        algorithms=["RS256"],
        audience=provider.client_id,
        options={"verify_exp": False},
    )
    assert claims["exp"] < time.time() - 1800  # its hour of life ended an hour ago

    provider.clock_offset(0)
    _, _, token = await sign_in(browser, provider)
    verify(token["id_token"], key, provider)  # the true clock again: valid
