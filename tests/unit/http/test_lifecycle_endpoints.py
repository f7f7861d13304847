"""The account lifecycle over HTTP: status codes, envelopes and effects (api.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.container import Container
from neodyme_domain.use_cases import RegisterCommand
from tests.unit.http.conftest import PASSWORD, bearer, eventually

NEW_PASSWORD = "BrandNewPassword456?"


async def session_of(register: Any, email: str) -> dict[str, Any]:
    response = await register(email)
    assert response.status_code == 201
    return dict(response.json())


async def token_from_email(notifier: RecordingNotifier, kind: str, to: str) -> str:
    await eventually(lambda: any(m.kind == kind and m.to == to for m in notifier.sent))
    link = next(m for m in notifier.sent if m.kind == kind and m.to == to).data["link"]
    return parse_qs(urlparse(link).query)["token"][0]


async def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_logout_ends_the_session(client: Any, register: Any) -> None:
    session = await session_of(register, "logout@example.com")
    body = {"refresh_token": session["refresh_token"]}

    first = await client.post("/api/v1/auth/logout", json=body)
    again = await client.post("/api/v1/auth/logout", json=body)
    refresh = await client.post("/api/v1/auth/refresh", json=body)

    assert first.status_code == 204
    assert (again.status_code, again.json()["error"]["code"]) == (401, "INVALID_TOKEN")
    assert (refresh.status_code, refresh.json()["error"]["code"]) == (401, "INVALID_TOKEN")


async def test_change_password_revokes_every_token(client: Any, register: Any) -> None:
    session = await session_of(register, "change@example.com")
    headers = bearer(session["access_token"])
    url = "/api/v1/auth/change-password"

    wrong = await client.post(
        url, json={"current_password": "Wrong123!", "new_password": NEW_PASSWORD}, headers=headers
    )
    weak = await client.post(
        url, json={"current_password": PASSWORD, "new_password": "short"}, headers=headers
    )
    done = await client.post(
        url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=headers
    )

    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "INVALID_CREDENTIALS")
    assert (weak.status_code, weak.json()["error"]["code"]) == (400, "WEAK_PASSWORD")
    assert done.status_code == 204
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert (me.status_code, me.json()["error"]["code"]) == (401, "INVALID_TOKEN")
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refresh.status_code == 401
    assert (await login(client, "change@example.com")).status_code == 401
    assert (await login(client, "change@example.com", NEW_PASSWORD)).status_code == 200


async def test_forgot_password_answers_the_same_for_unknown_addresses(
    client: Any, register: Any, notifier: RecordingNotifier
) -> None:
    await session_of(register, "forgetful@example.com")

    known = await client.post(
        "/api/v1/auth/forgot-password", json={"email": "forgetful@example.com"}
    )
    unknown = await client.post(
        "/api/v1/auth/forgot-password", json={"email": "nobody@example.com"}
    )

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() == {"status": "accepted"}
    await token_from_email(notifier, "password_reset", "forgetful@example.com")
    assert not [m for m in notifier.sent if m.to == "nobody@example.com"]


async def test_reset_password_works_once(
    client: Any, register: Any, notifier: RecordingNotifier
) -> None:
    session = await session_of(register, "reset@example.com")
    await client.post("/api/v1/auth/forgot-password", json={"email": "reset@example.com"})
    token = await token_from_email(notifier, "password_reset", "reset@example.com")
    url = "/api/v1/auth/reset-password"

    weak = await client.post(url, json={"token": token, "new_password": "weak"})
    done = await client.post(url, json={"token": token, "new_password": NEW_PASSWORD})
    reused = await client.post(url, json={"token": token, "new_password": NEW_PASSWORD})
    bogus = await client.post(url, json={"token": "not-a-token", "new_password": NEW_PASSWORD})

    assert (weak.status_code, weak.json()["error"]["code"]) == (400, "WEAK_PASSWORD")
    assert done.status_code == 204
    for response in (reused, bogus):
        assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_TOKEN")
        assert "www-authenticate" not in response.headers
    me = await client.get("/api/v1/auth/me", headers=bearer(session["access_token"]))
    assert me.status_code == 401
    relogin = await login(client, "reset@example.com", NEW_PASSWORD)
    assert relogin.json()["user"]["is_verified"] is True


async def test_email_verification(client: Any, register: Any, notifier: RecordingNotifier) -> None:
    session = await session_of(register, "verify@example.com")
    headers = bearer(session["access_token"])

    asked = await client.post("/api/v1/auth/request-verification", headers=headers)
    token = await token_from_email(notifier, "email_verification", "verify@example.com")
    verified = await client.post("/api/v1/auth/verify", json={"token": token})
    again = await client.post("/api/v1/auth/verify", json={"token": token})

    assert asked.status_code == 202
    assert (verified.status_code, verified.json()["is_verified"]) == (200, True)
    assert (again.status_code, again.json()["error"]["code"]) == (400, "INVALID_TOKEN")
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.json()["is_verified"] is True


async def test_profile_update_changes_only_the_name(client: Any, register: Any) -> None:
    session = await session_of(register, "profile@example.com")
    headers = bearer(session["access_token"])

    renamed = await client.patch(
        "/api/v1/users/me", json={"full_name": "  New Name  "}, headers=headers
    )
    escalate = await client.patch(
        "/api/v1/users/me", json={"full_name": "X", "is_superuser": True}, headers=headers
    )

    assert renamed.status_code == 200
    assert renamed.json()["full_name"] == "New Name"
    assert renamed.json()["updated_at"] > session["user"]["updated_at"]
    assert (escalate.status_code, escalate.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert (me.json()["full_name"], me.json()["is_superuser"]) == ("New Name", False)


async def test_deleting_the_account_frees_the_address(client: Any, register: Any) -> None:
    session = await session_of(register, "leaving@example.com")
    headers = bearer(session["access_token"])

    wrong = await client.request(
        "DELETE", "/api/v1/users/me", json={"password": "Wrong123!"}, headers=headers
    )
    done = await client.request(
        "DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=headers
    )

    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "INVALID_CREDENTIALS")
    assert done.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    assert (await register("leaving@example.com")).status_code == 201


async def superuser_headers(client: Any, container: Container) -> dict[str, str]:
    await container.register_user()(
        RegisterCommand("admin@example.com", "Admin", PASSWORD, is_superuser=True)
    )
    return bearer((await login(client, "admin@example.com")).json()["access_token"])


async def test_administration_is_for_superusers(
    client: Any, register: Any, container: Container
) -> None:
    plain = await session_of(register, "plain@example.com")
    headers = bearer(plain["access_token"])
    user_url = f"/api/v1/users/{plain['user']['id']}"

    listing = await client.get("/api/v1/users", headers=headers)
    status = await client.patch(user_url, json={"is_active": False}, headers=headers)

    for response in (listing, status):
        assert (response.status_code, response.json()["error"]["code"]) == (403, "FORBIDDEN")


async def test_superusers_page_through_every_user(
    client: Any, register: Any, container: Container
) -> None:
    for i in range(5):
        await session_of(register, f"paged{i}@example.com")
    headers = await superuser_headers(client, container)

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/users", params=params, headers=headers)).json()
        seen += [user["email"] for user in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break

    assert sorted(seen) == sorted(
        [f"paged{i}@example.com" for i in range(5)] + ["admin@example.com"]
    )
    bad = await client.get("/api/v1/users", params={"limit": 500}, headers=headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "VALIDATION_ERROR")


async def test_deactivation_takes_effect_at_once(
    client: Any, register: Any, container: Container
) -> None:
    victim = await session_of(register, "victim@example.com")
    headers = await superuser_headers(client, container)

    response = await client.patch(
        f"/api/v1/users/{victim['user']['id']}", json={"is_active": False}, headers=headers
    )
    missing = await client.patch(
        "/api/v1/users/00000000-0000-4000-8000-000000000000",
        json={"is_active": False},
        headers=headers,
    )

    assert (response.status_code, response.json()["is_active"]) == (200, False)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "USER_NOT_FOUND")
    me = await client.get("/api/v1/auth/me", headers=bearer(victim["access_token"]))
    assert me.status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]}
    )
    assert refresh.status_code == 401
    login_response = await login(client, "victim@example.com")
    assert (login_response.status_code, login_response.json()["error"]["code"]) == (
        403,
        "ACCOUNT_INACTIVE",
    )


async def test_users_see_their_own_security_history(client: Any, register: Any) -> None:
    session = await session_of(register, "history@example.com")
    await login(client, "history@example.com", "Wrong123!")
    await login(client, "history@example.com")
    await session_of(register, "someone-else@example.com")

    response = await client.get(
        "/api/v1/users/me/events",
        params={"limit": 2},
        headers=bearer(session["access_token"]) | {"User-Agent": "pytest"},
    )

    assert response.status_code == 200
    page = response.json()
    assert [event["type"] for event in page["items"]] == ["user_login", "login_failed"]
    assert page["items"][1]["data"]["reason"] == "invalid_password"
    assert page["next_cursor"] is not None
    rest = await client.get(
        "/api/v1/users/me/events",
        params={"cursor": page["next_cursor"]},
        headers=bearer(session["access_token"]),
    )
    assert [event["type"] for event in rest.json()["items"]] == ["user_registration"]
