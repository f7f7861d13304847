"""Every documented setting reaches the running app: one test per family, from the
``NEODYME_*`` variable (parsed by ``Settings.from_env``) through the container to what the
HTTP API does. Parsing alone is test_settings.py's; the families tested elsewhere end to
end are listed in docs/testing.md.

- token lifetimes and claims: ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, JWT_ISSUER,
  JWT_AUDIENCE, JWT_LEEWAY;
- link lifetimes: RESET_TOKEN_TTL, VERIFICATION_TOKEN_TTL;
- the docs switch: DOCS;
- the password policy: PASSWORD_POLICY and PASSWORD_BLOCKLIST, with the real list of
  common passwords (neodyme_adapters/common_passwords.py);
- the request body limit: MAX_BODY_BYTES;
- the database pool and deadline: DB_POOL_SIZE, DB_TIMEOUT.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import jwt
import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from neodyme_adapters.common_passwords import common_passwords
from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container
from neodyme_domain.tokens.model import OneTimePurpose
from tests.unit.http.conftest import PASSWORD, bearer, serving

SECRET = "settings-in-effect-signing-secret-0123456789"
REGISTER = "/api/v1/auth/register"


def settings_from(**variables: str) -> Settings:
    """Test settings (memory storage, cheap hashing) plus ``NEODYME_<NAME>=value`` each."""
    return Settings.from_env(
        {
            "NEODYME_ENVIRONMENT": "testing",
            "NEODYME_DATABASE_URL": "memory://",
            "NEODYME_SECRET_KEY": SECRET,
            "NEODYME_ARGON2_MEMORY_KIB": "64",
            "NEODYME_ARGON2_TIME_COST": "1",
        }
        | {f"NEODYME_{name}": value for name, value in variables.items()}
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[AsyncTestClient[Any], Container]]:
    container = build_container(settings)
    container.notifier.override(providers.Object(RecordingNotifier()))
    with serving(container) as app:
        async with AsyncTestClient(app=app) as client:
            yield client, container


async def register(client: AsyncTestClient[Any], email: str, password: str = PASSWORD) -> Any:
    return await client.post(
        REGISTER, json={"email": email, "full_name": "Set Tings", "password": password}
    )


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


# --- token lifetimes and claims ------------------------------------------------------------


async def test_token_lifetimes_issuer_and_audience_are_those_of_the_settings() -> None:
    settings = settings_from(
        ACCESS_TOKEN_TTL="120",
        REFRESH_TOKEN_TTL="7200",
        JWT_ISSUER="accounts.example",
        JWT_AUDIENCE="example-app",
    )
    async with running(settings) as (client, _):
        session = (await register(client, "ttl@example.com")).json()
        me = await client.get("/api/v1/auth/me", headers=bearer(session["access_token"]))

    access, refresh = claims_of(session["access_token"]), claims_of(session["refresh_token"])
    assert session["expires_in"] == 120
    assert access["exp"] - access["iat"] == 120
    assert refresh["exp"] - refresh["iat"] == 7200
    assert (access["iss"], access["aud"]) == ("accounts.example", "example-app")
    assert me.status_code == 200, "the server checks the claims it issues by the same settings"


@pytest.mark.parametrize(("leeway", "status"), [("30", 200), ("0", 401)])
async def test_a_token_expired_seconds_ago_is_accepted_only_within_the_leeway(
    leeway: str, status: int
) -> None:
    async with running(settings_from(JWT_LEEWAY=leeway)) as (client, _):
        session = (await register(client, "leeway@example.com")).json()
        now = int(time.time())
        claims = claims_of(session["access_token"]) | {"iat": now - 120, "exp": now - 5}
        expired = jwt.encode(claims, SECRET, algorithm="HS256")

        response = await client.get("/api/v1/auth/me", headers=bearer(expired))

    assert response.status_code == status, response.text


# --- link lifetimes ------------------------------------------------------------------------


async def test_reset_and_verification_links_live_as_long_as_the_settings_say() -> None:
    settings = settings_from(RESET_TOKEN_TTL="600", VERIFICATION_TOKEN_TTL="1200")
    async with running(settings) as (client, container):
        session = (await register(client, "links@example.com")).json()
        forgot = await client.post(
            "/api/v1/auth/forgot-password", json={"email": "links@example.com"}
        )
        verify = await client.post(
            "/api/v1/auth/request-verification", headers=bearer(session["access_token"])
        )
        records = list(container.memory_database().state.one_time_tokens.values())

    assert (forgot.status_code, verify.status_code) == (202, 202)
    lifetimes = {record.purpose: record.expires_at - record.created_at for record in records}
    assert lifetimes == {
        OneTimePurpose.PASSWORD_RESET: timedelta(seconds=600),
        OneTimePurpose.EMAIL_VERIFICATION: timedelta(seconds=1200),
    }


# --- the docs switch -----------------------------------------------------------------------


@pytest.mark.parametrize(("docs", "status"), [("true", 200), ("false", 404)])
async def test_the_docs_switch_serves_or_removes_the_schema(docs: str, status: int) -> None:
    async with running(settings_from(DOCS=docs)) as (client, _):
        for path in ("/schema/openapi.json", "/schema/swagger"):
            assert (await client.get(path)).status_code == status, path
        assert (await client.get("/health")).status_code == 200


# --- the password policy, with the real list of common passwords -----------------------------

COMMON_AND_LONG = "1qaz2wsx3edc4rfv"
"""16 characters, on the real list (a keyboard walk): long enough for NIST, still refused."""
COMMON_AND_COMPOSED = "P@ssw0rd"
"""Upper, lower, digit, special, 8 characters: the book's rules hold, and it is on the list."""


def test_the_real_list_is_the_30000_common_passwords_case_folded() -> None:
    listed = common_passwords()

    assert len(listed) == 30_000
    assert {"password", "iloveyou", COMMON_AND_LONG, COMMON_AND_COMPOSED.casefold()} <= listed
    assert all(word == word.casefold() for word in listed)


async def weak_because(client: AsyncTestClient[Any], email: str, password: str) -> list[str]:
    response = await register(client, email, password)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "WEAK_PASSWORD"
    return list(error["details"]["unmet"])


async def new_password_min_length(client: AsyncTestClient[Any]) -> set[int]:
    """``minLength`` of every field of the document that sets a password."""
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    return {
        schemas[body]["properties"][name]["minLength"]
        for body, name in [
            ("RegisterBody", "password"),
            ("ChangePasswordBody", "new_password"),
            ("ResetPasswordBody", "new_password"),
        ]
    }


async def test_the_nist_policy_wants_15_characters_and_nothing_common() -> None:
    async with running(settings_from(PASSWORD_POLICY="nist")) as (client, _):
        assert await new_password_min_length(client) == {15}
        assert await weak_because(client, "short@example.com", "Tr0ub4dor&3xyz") == ["min_length"]
        assert await weak_because(client, "common@example.com", COMMON_AND_LONG) == [
            "common_password"
        ]
        assert await weak_because(client, "shout@example.com", COMMON_AND_LONG.upper()) == [
            "common_password"
        ]
        assert await weak_because(client, "both@example.com", "iloveyou") == [
            "min_length",
            "common_password",
        ]
        accepted = await register(client, "words@example.com", "correct horse battery staple")
        assert accepted.status_code == 201, "no composition rule: lower-case words will do"


async def test_the_book_policy_takes_a_common_password_unless_the_blocklist_is_on() -> None:
    async with running(settings_from()) as (client, _):
        assert await new_password_min_length(client) == {8}
        accepted = await register(client, "book@example.com", COMMON_AND_COMPOSED)
        assert accepted.status_code == 201, accepted.text
        assert await weak_because(client, "short@example.com", "Ab1!") == ["min_length"]

    async with running(settings_from(PASSWORD_BLOCKLIST="true")) as (client, _):
        assert await new_password_min_length(client) == {8}
        assert await weak_because(client, "listed@example.com", COMMON_AND_COMPOSED) == [
            "common_password"
        ]
        accepted = await register(client, "fine@example.com", PASSWORD)
        assert accepted.status_code == 201, accepted.text


# --- the request body limit ----------------------------------------------------------------


async def test_a_body_over_the_limit_is_413_and_one_within_it_is_read() -> None:
    async with running(settings_from(MAX_BODY_BYTES="1024")) as (client, _):
        over = await client.post(
            REGISTER,
            json={"email": "big@example.com", "full_name": "x" * 1500, "password": PASSWORD},
        )
        within = await register(client, "small@example.com")

    assert (over.status_code, over.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert within.status_code == 201, within.text


# --- the database pool and deadline ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "connect_timeout"),
    [("postgresql+psycopg://nobody@127.0.0.1:1/none", 1.5), ("sqlite+aiosqlite:///n.db", None)],
)
def test_the_pool_size_and_database_deadline_reach_the_engine_and_units_of_work(
    url: str, connect_timeout: float | None
) -> None:
    """Checked where they take effect, without connecting: the engine's pool (size, wait
    for a connection) and the units of work's deadline on getting a live connection
    (PostgreSQL; SQLite waits for its write lock instead)."""
    container = build_container(settings_from(DATABASE_URL=url, DB_POOL_SIZE="3", DB_TIMEOUT="1.5"))

    pool = container.engine().sync_engine.pool
    assert (pool.size(), pool.timeout()) == (3, 1.5)  # type: ignore[attr-defined]
    assert container.connect_timeout() == connect_timeout
    assert container.uow()._connect_timeout == connect_timeout
