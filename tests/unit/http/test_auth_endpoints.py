"""The book's API behaviour, through the HTTP layer on in-memory adapters."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.container import Container
from neodyme_domain.use_cases import RegisterCommand
from tests.unit.http.conftest import PASSWORD, bearer, eventually

SECRET = "unit-tests-secret-key-of-at-least-32-bytes"


def without_request_id(response: Any) -> dict[str, Any]:
    """The body, with the one field that differs between any two responses (the request's
    id) taken out of its error: what is left must be the same for answers that must not
    tell two situations apart. Headers are compared too, but for the id."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = dict(body["error"])
    assert error.pop("request_id") == response.headers["x-request-id"]
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return {"status": response.status_code, "error": error, "headers": headers}


async def test_registration_returns_a_session_and_the_user(register: Any) -> None:
    response = await register("  integration@EXAMPLE.com ", full_name="Integration User")

    assert response.status_code == 201
    data = response.json()
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == 900
    assert data["user"]["email"] == "integration@example.com"
    assert data["user"]["full_name"] == "Integration User"
    assert data["user"]["is_active"] is True
    assert data["user"]["is_verified"] is False
    assert data["user"]["is_superuser"] is False
    assert data["user"]["created_at"] == data["user"]["updated_at"]
    assert not {"password", "hashed_password"} & set(data["user"])
    assert response.headers["cache-control"] == "no-store"
    assert len(response.headers["x-request-id"]) == 32


async def test_access_token_carries_the_documented_claims(register: Any) -> None:
    data = (await register("claims@example.com")).json()

    payload = jwt.decode(
        data["access_token"],
        SECRET,
        algorithms=["HS256"],
        audience="neodyme-api",
        issuer="neodyme",
    )

    assert payload["sub"] == data["user"]["id"]
    assert payload["type"] == "access"
    assert payload["permissions"] == ["users:read:self", "users:write:self"]
    assert {"exp", "iat", "jti"} <= set(payload)


async def test_registration_sends_the_welcome_email_and_records_the_event(
    register: Any, notifier: RecordingNotifier, container: Container
) -> None:
    user = (await register("welcome@example.com", full_name="Wendy Welcome")).json()["user"]

    await eventually(lambda: len(notifier.sent) == 1)
    email = notifier.sent[0]
    assert (email.kind, email.to, email.data["user_name"]) == (
        "welcome",
        "welcome@example.com",
        "Wendy Welcome",
    )
    events = container.memory_database().events
    assert [(e.type, str(e.user_id), e.data["user_email"]) for e in events] == [
        ("user_registration", user["id"], "welcome@example.com")
    ]
    assert events[0].client_ip is not None


async def test_a_failing_mail_server_does_not_fail_registration(
    register: Any, notifier: RecordingNotifier, container: Container
) -> None:
    notifier.failure = ConnectionRefusedError("SMTP down")

    response = await register("unlucky@example.com")

    assert response.status_code == 201
    await eventually(lambda: notifier.attempts >= 1)
    pending = container.memory_database().outbox
    assert [(e.message.to, e.sent_at, e.attempts) for e in pending] == [
        ("unlucky@example.com", None, 1)
    ]


async def test_duplicate_registration_is_409_in_any_case(register: Any) -> None:
    assert (await register("duplicate@example.com")).status_code == 201

    response = await register("DUPLICATE@example.com", password="DifferentPassword123!")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "EMAIL_ALREADY_EXISTS"
    assert "already exists" in error["message"]


@pytest.mark.parametrize(
    ("password", "unmet"),
    [
        ("123", ["min_length", "lowercase", "uppercase", "special"]),
        ("password", ["uppercase", "digit", "special"]),
        ("PASSWORD", ["lowercase", "digit", "special"]),
        ("Password", ["digit", "special"]),
        ("Password123", ["special"]),
    ],
)
async def test_weak_passwords_are_400_naming_the_unmet_rules(
    register: Any, password: str, unmet: list[str]
) -> None:
    response = await register(f"weak{password}@example.com", password=password)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "WEAK_PASSWORD"
    assert "requirements not met" in error["message"]
    assert error["details"]["unmet"] == unmet


async def test_login_returns_a_session_and_records_the_login(
    client: Any, register: Any, container: Container
) -> None:
    await register("login@example.com", password="LoginPassword123!")

    response = await client.post(
        "/api/v1/auth/login", json={"email": "Login@Example.com", "password": "LoginPassword123!"}
    )

    assert response.status_code == 200
    data = response.json()
    assert data["user"]["email"] == "login@example.com"
    assert {"access_token", "refresh_token"} <= set(data)
    assert response.headers["cache-control"] == "no-store"
    assert [e.type for e in container.memory_database().events][-1] == "user_login"


async def test_login_with_unknown_email_looks_like_wrong_password(
    client: Any, register: Any
) -> None:
    await register("known@example.com")

    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "known@example.com", "password": "Wrong123!x"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "Wrong123!x"}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert without_request_id(wrong) == without_request_id(unknown)
    assert wrong.json()["error"]["code"] == "INVALID_CREDENTIALS"
    assert wrong.json()["error"]["message"] == "Invalid email or password"
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_login_of_a_deactivated_account_is_403_after_a_correct_password(
    client: Any, register: Any, container: Container
) -> None:
    user_id = (await register("inactive@example.com")).json()["user"]["id"]
    async with container.uow() as uow:
        user = await uow.users.get(uuid.UUID(user_id))
        assert user is not None
        user.is_active = False
        await uow.users.update(user)
        await uow.commit()

    right = await client.post(
        "/api/v1/auth/login", json={"email": "inactive@example.com", "password": PASSWORD}
    )
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "inactive@example.com", "password": "Nope1234!"}
    )

    assert (right.status_code, right.json()["error"]["code"]) == (403, "ACCOUNT_INACTIVE")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "INVALID_CREDENTIALS")


async def test_me_needs_a_valid_access_token(client: Any, register: Any) -> None:
    session = (await register("protected@example.com")).json()

    ok = await client.get("/api/v1/auth/me", headers=bearer(session["access_token"]))
    missing = await client.get("/api/v1/auth/me")
    garbage = await client.get("/api/v1/auth/me", headers=bearer("invalid-token"))
    refresh = await client.get("/api/v1/auth/me", headers=bearer(session["refresh_token"]))
    basic = await client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})

    assert ok.status_code == 200
    assert ok.json() == session["user"]
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "NOT_AUTHENTICATED")
    assert missing.headers["www-authenticate"] == "Bearer"
    for response in (garbage, refresh, basic):
        assert (response.status_code, response.json()["error"]["code"]) == (401, "INVALID_TOKEN")


async def test_refresh_rotates_and_detects_reuse(client: Any, register: Any) -> None:
    first = (await register("refresh@example.com")).json()["refresh_token"]

    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["token_type"] == "bearer"
    assert second["refresh_token"] != first
    me = await client.get("/api/v1/auth/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200

    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert (reused.status_code, reused.json()["error"]["code"]) == (401, "TOKEN_REUSED")
    revoked = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert (revoked.status_code, revoked.json()["error"]["code"]) == (401, "INVALID_TOKEN")


async def test_an_access_token_cannot_refresh(client: Any, register: Any) -> None:
    access = (await register("swap@example.com")).json()["access_token"]

    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": access})

    assert (response.status_code, response.json()["error"]["code"]) == (401, "INVALID_TOKEN")


async def test_users_see_themselves_but_not_others(client: Any, register: Any) -> None:
    one = (await register("user1@example.com")).json()
    two = (await register("user2@example.com")).json()
    headers = bearer(one["access_token"])

    own = await client.get(f"/api/v1/users/{one['user']['id']}", headers=headers)
    other = await client.get(f"/api/v1/users/{two['user']['id']}", headers=headers)
    missing = await client.get(
        "/api/v1/users/00000000-0000-4000-8000-000000000000", headers=headers
    )
    malformed = await client.get("/api/v1/users/not-a-uuid", headers=headers)

    assert (own.status_code, own.json()["email"]) == (200, "user1@example.com")
    assert (other.status_code, other.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert without_request_id(missing) == without_request_id(other)
    assert (missing.status_code, missing.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (422, "VALIDATION_ERROR")


async def test_superusers_see_anyone_and_get_404_for_missing_ids(
    client: Any, register: Any, container: Container
) -> None:
    other = (await register("plain@example.com")).json()["user"]
    await container.register_user()(
        RegisterCommand("root@example.com", "Root", PASSWORD, is_superuser=True)
    )
    login = await client.post(
        "/api/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD}
    )
    headers = bearer(login.json()["access_token"])

    seen = await client.get(f"/api/v1/users/{other['id']}", headers=headers)
    missing = await client.get(
        "/api/v1/users/00000000-0000-4000-8000-000000000000", headers=headers
    )

    assert (seen.status_code, seen.json()) == (200, other)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "USER_NOT_FOUND")
