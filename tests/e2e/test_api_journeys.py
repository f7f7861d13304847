"""The book's API integration tests, against the real server process: what a user does over
HTTP, and what it leaves behind (an e-mail at the SMTP server, rows in the database). Each
runs on PostgreSQL and on SQLite (tests/e2e/backends.py)."""

from __future__ import annotations

import uuid

import jwt
import pytest

from tests.e2e import backends
from tests.e2e.api import PASSWORD, Api, Cli, Database, expect, expect_error, unique_email
from tests.support.smtp import SmtpSink

server, database, cli = backends.server, backends.database, backends.cli  # each database's


async def test_registration_returns_a_session_sends_a_welcome_email_and_records_the_event(
    api: Api, smtp_sink: SmtpSink, database: Database
) -> None:
    email = unique_email("integration")

    data = expect(await api.register(email, full_name="Integration User"), 201)

    assert {"access_token", "refresh_token"} <= set(data)
    assert data["token_type"] == "bearer"
    user = data["user"]
    assert user["email"] == email
    assert user["full_name"] == "Integration User"
    assert "id" in user
    payload = jwt.decode(data["access_token"], options={"verify_signature": False})
    assert payload["sub"] == str(user["id"])
    assert payload["type"] == "access"
    assert "permissions" in payload

    welcome = await smtp_sink.wait_for(lambda m: m["To"] == email)
    assert welcome["X-Neodyme-Kind"] == "welcome"
    assert welcome["From"] == "no-reply@neodyme.test"
    assert "Integration User" in welcome.get_content().splitlines()[0]
    assert [m for m in smtp_sink.messages if m["To"] == email] == [welcome]

    events = database.events_of(user["id"])
    assert [(e["type"], e["user_id"], e["data"]["user_email"]) for e in events] == [
        ("user_registration", user["id"], email)
    ]


async def test_login_after_registration_returns_a_session_and_records_the_login(
    api: Api, database: Database
) -> None:
    email = unique_email("login")
    registered = await api.signed_up(email, password="LoginPassword123!")

    data = expect(await api.login(email, "LoginPassword123!"), 200)

    assert {"access_token", "refresh_token"} <= set(data)
    assert data["token_type"] == "bearer"
    assert data["user"]["email"] == email
    assert data["user"]["id"] == registered["user"]["id"]
    events = database.events_of(data["user"]["id"])
    assert [e["type"] for e in events] == ["user_registration", "user_login"]


async def test_an_access_token_opens_the_users_own_profile(api: Api) -> None:
    email = unique_email("protected")
    session = await api.signed_up(email, full_name="Protected User")
    token, user_id = session["access_token"], session["user"]["id"]

    profile = expect(await api.me(token), 200)
    assert profile["email"] == email
    assert profile["id"] == user_id

    own = expect(await api.user(user_id, token), 200)
    assert own["email"] == email
    assert own == profile


async def test_protected_endpoints_refuse_missing_invalid_and_foreign_access(api: Api) -> None:
    missing = await api.me()
    expect_error(missing, 401, "NOT_AUTHENTICATED")
    assert missing.headers["www-authenticate"] == "Bearer"
    expect_error(await api.me("invalid-token"), 401, "INVALID_TOKEN")

    one = await api.signed_up(unique_email("user1"), password="Password123!")
    two = await api.signed_up(unique_email("user2"), password="Password123!")

    foreign = await api.user(two["user"]["id"], one["access_token"])
    expect_error(foreign, 403, "FORBIDDEN")


async def test_registering_an_address_twice_is_a_conflict(api: Api) -> None:
    email = unique_email("duplicate")
    await api.signed_up(email, password="Password123!", full_name="First User")

    again = await api.register(email, password="DifferentPassword123!", full_name="Second User")

    error = expect_error(again, 409, "EMAIL_ALREADY_EXISTS")
    assert "already exists" in error["message"]


async def test_refresh_rotates_the_tokens_and_a_replayed_refresh_token_is_refused(
    api: Api,
) -> None:
    session = await api.signed_up(unique_email("refresh"), password="RefreshPassword123!")
    first_refresh = session["refresh_token"]

    rotated = expect(await api.refresh(first_refresh), 200)
    assert "access_token" in rotated
    assert rotated["token_type"] == "bearer"
    assert rotated["refresh_token"] != first_refresh
    profile = expect(await api.me(rotated["access_token"]), 200)
    assert profile["id"] == session["user"]["id"]

    expect_error(await api.refresh(first_refresh), 401, "TOKEN_REUSED")
    # The replay revoked the whole family, the rotated token with it.
    expect_error(await api.refresh(rotated["refresh_token"]), 401, "INVALID_TOKEN")


@pytest.mark.parametrize(
    "weak_password", ["123", "password", "PASSWORD", "Password", "Password123"]
)
async def test_weak_passwords_are_refused_and_create_no_account(
    api: Api, database: Database, weak_password: str
) -> None:
    email = unique_email(f"weak{weak_password}")

    response = await api.register(email, password=weak_password, full_name="Weak Password User")

    error = expect_error(response, 400, "WEAK_PASSWORD")
    assert "requirements not met" in error["message"]
    assert database.users_with_email(email) == 0


async def test_complete_user_journey_register_login_and_read_the_profile(api: Api) -> None:
    email = unique_email("journey")

    registered = await api.signed_up(email, password=PASSWORD, full_name="Journey User")
    logged_in = expect(await api.login(email, PASSWORD), 200)
    profile = expect(await api.me(logged_in["access_token"]), 200)

    assert registered["user"]["id"] == logged_in["user"]["id"] == profile["id"]
    assert profile == registered["user"]
    assert profile["full_name"] == "Journey User"


async def test_a_superuser_created_with_the_cli_reads_any_profile(api: Api, cli: Cli) -> None:
    admin_email = unique_email("admin")
    created = await cli.create_user(admin_email, "Ada Admin", PASSWORD, superuser=True)
    assert created.returncode == 0, created
    assert f"created superuser {admin_email}" in created.stdout
    other = (await api.signed_up(unique_email("plain")))["user"]

    session = expect(await api.login(admin_email, PASSWORD), 200)
    token = session["access_token"]

    assert session["user"]["is_superuser"] is True
    permissions = jwt.decode(token, options={"verify_signature": False})["permissions"]
    assert "users:read:any" in permissions
    assert expect(await api.user(other["id"], token), 200) == other
    expect_error(await api.user(str(uuid.uuid4()), token), 404, "USER_NOT_FOUND")
