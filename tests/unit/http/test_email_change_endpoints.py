"""POST /users/me/email and POST /auth/confirm-email over HTTP (api.md)."""

from __future__ import annotations

from typing import Any

from neodyme_adapters.memory import RecordingNotifier
from tests.unit.http.conftest import PASSWORD, bearer
from tests.unit.http.test_lifecycle_endpoints import session_of, token_from_email

URL = "/api/v1/users/me/email"


async def test_a_change_is_accepted_and_confirmed_by_the_link(
    client: Any, register: Any, notifier: RecordingNotifier
) -> None:
    session = await session_of(register, "mover@example.com")
    headers = bearer(session["access_token"])

    accepted = await client.post(
        URL, json={"new_email": "moved@example.com", "password": PASSWORD}, headers=headers
    )
    token = await token_from_email(notifier, "email_change", "moved@example.com")
    confirmed = await client.post("/api/v1/auth/confirm-email", json={"token": token})
    again = await client.post("/api/v1/auth/confirm-email", json={"token": token})

    assert (accepted.status_code, accepted.json()) == (202, {"status": "accepted"})
    assert confirmed.status_code == 200
    body = confirmed.json()
    assert (body["email"], body["is_verified"], body["mfa_enabled"]) == (
        "moved@example.com",
        True,
        False,
    )
    assert (again.status_code, again.json()["error"]["code"]) == (400, "INVALID_TOKEN")
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.json()["email"] == "moved@example.com"  # the session stays


async def test_a_change_is_refused_without_the_password_or_onto_a_taken_address(
    client: Any, register: Any
) -> None:
    session = await session_of(register, "stay@example.com")
    await session_of(register, "taken@example.com")
    headers = bearer(session["access_token"])

    wrong = await client.post(
        URL, json={"new_email": "free@example.com", "password": "Wrong-Pass-123"}, headers=headers
    )
    taken = await client.post(
        URL, json={"new_email": "taken@example.com", "password": PASSWORD}, headers=headers
    )
    malformed = await client.post(
        URL, json={"new_email": "nope", "password": PASSWORD}, headers=headers
    )
    anonymous = await client.post(URL, json={"new_email": "free@example.com", "password": "x"})

    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "INVALID_CREDENTIALS")
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "EMAIL_ALREADY_EXISTS")
    assert malformed.status_code == 422
    assert anonymous.status_code == 401
