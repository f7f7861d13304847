"""Forged and misused tokens, presented over HTTP to the real server: every one is a 401.

The test knows the server's signing key (``server.env``), so it can mint a token that the
server accepts; each forgery then changes exactly one thing in that token (its algorithm,
its key, one claim, its payload after signing, its type, where it is sent), which proves
that the one change, and nothing else, is what the server refuses.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e.api import Api, describe, expect, expect_error, unique_email
from tests.e2e.conftest import Server

ISSUER = "neodyme"
AUDIENCE = "neodyme-api"
USER_PERMISSIONS = ["users:read:self", "users:write:self"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64_json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


class Forge:
    """Mints access tokens for one user the way the server does (api.md's claims, HS256,
    the server's key), with one change at a time."""

    def __init__(self, secret: str, account: dict[str, Any]) -> None:
        self.secret = secret
        self.user_id = account["user"]["id"]
        # The account's session (its sign-up's): forged tokens claim it, as real ones do.
        self.session_id = jwt.decode(account["access_token"], options={"verify_signature": False})[
            "sid"
        ]

    def claims(self, **changes: Any) -> dict[str, Any]:
        """The claims of a valid access token; a change to ``None`` removes the claim."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": self.user_id,
            "type": "access",
            "jti": uuid.uuid4().hex,
            "permissions": list(USER_PERMISSIONS),
            "ver": 0,  # a new account's token_version
            "sid": self.session_id,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now - 5,
            "exp": now + 600,
        }
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def token(self, *, key: str | None = None, algorithm: str = "HS256", **changes: Any) -> str:
        return jwt.encode(self.claims(**changes), key or self.secret, algorithm=algorithm)

    def unsigned(self) -> str:
        """``alg: none`` and no signature, claims otherwise valid."""
        header = _b64_json({"alg": "none", "typ": "JWT"})
        return f"{header}.{_b64_json(self.claims())}."

    def none_with_valid_signature(self) -> str:
        """A valid token whose header is switched to ``alg: none`` (signature kept)."""
        _, payload, signature = self.token().split(".")
        return f"{_b64_json({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}"

    def tampered(self, **changes: Any) -> str:
        """A valid token whose payload is edited after signing (header, signature kept)."""
        header, payload, signature = self.token().split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims.update(changes)
        return f"{header}.{_b64_json(claims)}.{signature}"


@pytest.fixture
async def account(api: Api) -> dict[str, Any]:
    return await api.signed_up(unique_email("forge"))


@pytest.fixture
async def forge(api: Api, server: Server, account: dict[str, Any]) -> Forge:
    """A forge whose baseline token is first proven to be accepted by the server."""
    minted = Forge(server.env["NEODYME_SECRET_KEY"], account)
    profile = expect(await api.me(minted.token()), 200)
    assert profile["id"] == account["user"]["id"]
    return minted


def _refused(response: httpx.Response, code: str = "INVALID_TOKEN") -> None:
    expect_error(response, 401, code)
    assert response.headers.get("www-authenticate") == "Bearer", describe(response)


FORGERIES: dict[str, Callable[[Forge], str]] = {
    "alg none, no signature": lambda f: f.unsigned(),
    "alg none, signature kept": lambda f: f.none_with_valid_signature(),
    "HS384 with the server's key": lambda f: f.token(algorithm="HS384"),
    "HS512 with the server's key": lambda f: f.token(algorithm="HS512"),
    "signed with another key": lambda f: f.token(key="another-key-" + "x" * 40),
    "payload tampered: permissions": lambda f: f.tampered(
        permissions=[*USER_PERMISSIONS, "users:read:any", "users:write:any"]
    ),
    "payload tampered: subject": lambda f: f.tampered(sub=str(uuid.uuid4())),
    "payload tampered: expiry": lambda f: f.tampered(exp=int(time.time()) + 86400 * 365),
    "missing exp": lambda f: f.token(exp=None),
    "missing iat": lambda f: f.token(iat=None),
    "missing sub": lambda f: f.token(sub=None),
    "missing jti": lambda f: f.token(jti=None),
    "missing type": lambda f: f.token(type=None),
    "missing ver": lambda f: f.token(ver=None),
    # Both beyond NEODYME_JWT_LEEWAY (10 s by default, 300 s at most), or they would pass.
    "expired": lambda f: f.token(iat=int(time.time()) - 1200, exp=int(time.time()) - 60),
    "issued in the future": lambda f: f.token(iat=int(time.time()) + 3600),
    "wrong iss": lambda f: f.token(iss="not-neodyme"),
    "missing iss": lambda f: f.token(iss=None),
    "wrong aud": lambda f: f.token(aud="another-api"),
    "missing aud": lambda f: f.token(aud=None),
    "type refresh": lambda f: f.token(type="refresh", fam=uuid.uuid4().hex),
    "stale token version": lambda f: f.token(ver=1),
    "missing sid": lambda f: f.token(sid=None),
    "unknown session": lambda f: f.token(sid="no-such-session"),
    "subject not a uuid": lambda f: f.token(sub="admin"),
    "permissions not a list": lambda f: f.token(permissions="users:read:any"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_a_forged_access_token_is_refused(api: Api, forge: Forge, forgery: str) -> None:
    _refused(await api.me(FORGERIES[forgery](forge)))


async def test_a_refresh_token_does_not_open_an_endpoint(api: Api, account: dict[str, Any]) -> None:
    _refused(await api.me(account["refresh_token"]))
    # ... and it was not spent or harmed by the attempt: it still refreshes.
    expect(await api.refresh(account["refresh_token"]), 200)


async def test_an_access_token_does_not_refresh_or_log_out(
    api: Api, account: dict[str, Any]
) -> None:
    _refused(await api.refresh(account["access_token"]))
    _refused(await api.logout(account["access_token"]))
    expect(await api.me(account["access_token"]), 200)


async def test_a_forged_refresh_token_is_refused(
    api: Api, forge: Forge, account: dict[str, Any]
) -> None:
    """Signed with the right key and of the right type, but never issued: the server keeps
    a record of each refresh token and this one has none."""
    refresh = forge.token(type="refresh", fam=uuid.uuid4().hex, permissions=None, ver=None)
    _refused(await api.refresh(refresh))


@pytest.mark.parametrize("parameter", ["access_token", "token", "jwt", "authorization"])
async def test_a_token_in_the_query_string_is_not_accepted(
    api: Api, account: dict[str, Any], parameter: str
) -> None:
    response = await api.client.get("/api/v1/auth/me", params={parameter: account["access_token"]})
    _refused(response, "NOT_AUTHENTICATED")


@pytest.mark.parametrize(
    "header",
    [
        "Basic {token}",
        "Token {token}",
        "{token}",
        "Bearer",
        "Bearer {token} {token}",
        "Bearer {token}x",
    ],
)
async def test_a_malformed_authorization_header_is_refused(
    api: Api, account: dict[str, Any], header: str
) -> None:
    value = header.format(token=account["access_token"])
    response = await api.client.get("/api/v1/auth/me", headers={"Authorization": value})
    assert response.status_code == 401, describe(response)
    assert response.json()["error"]["code"] in {"INVALID_TOKEN", "NOT_AUTHENTICATED"}


async def test_token_responses_are_not_cacheable(api: Api) -> None:
    email = unique_email("nostore")
    registered = await api.register(email)
    logged_in = await api.login(email)
    refreshed = await api.refresh(expect(logged_in, 200)["refresh_token"])

    for response, status in ((registered, 201), (logged_in, 200), (refreshed, 200)):
        expect(response, status)
        assert response.headers.get("cache-control") == "no-store", describe(response)


async def test_ten_parallel_refreshes_with_one_token_give_exactly_one_pair_then_none(
    api: Api, account: dict[str, Any]
) -> None:
    """One refresh wins the token; every other one presents a token already used, which
    is reuse: the family is revoked, the winner's new pair with it. A store that lost
    the race (no winner) or let two through fails here, and so does one that forgot to
    revoke the family."""
    responses = await asyncio.gather(*(api.refresh(account["refresh_token"]) for _ in range(10)))

    everything = [describe(r) for r in responses]
    succeeded = [r for r in responses if r.status_code == 200]
    assert len(succeeded) == 1, everything
    losers = [r for r in responses if r.status_code != 200]
    assert [r.status_code for r in losers] == [401] * 9, everything
    codes = [r.json()["error"]["code"] for r in losers]
    for loser, code in zip(losers, codes, strict=True):
        assert code in {"INVALID_TOKEN", "TOKEN_REUSED"}, everything
        expect_error(loser, 401, code)  # the envelope, complete
    # The first loser past the winner sees a used token (reuse, and revokes the family);
    # the ones after it may find the family revoked already (a plain invalid token).
    assert "TOKEN_REUSED" in codes, everything

    _refused(await api.refresh(expect(succeeded[0], 200)["refresh_token"]))


async def test_the_baseline_forge_matches_a_server_token(
    server: Server, account: dict[str, Any]
) -> None:
    """The forged claims are exactly the server's own (a guard on the forge itself)."""
    issued = jwt.decode(
        account["access_token"],
        server.env["NEODYME_SECRET_KEY"],
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
    )
    forged = Forge(server.env["NEODYME_SECRET_KEY"], account).claims()
    assert set(issued) == set(forged)
    assert jwt.get_unverified_header(account["access_token"])["alg"] == "HS256"
