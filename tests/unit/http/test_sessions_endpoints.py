"""/users/me/sessions and /users/{id}/sessions over HTTP: shapes, status codes, effects."""

from __future__ import annotations

from typing import Any

from neodyme_app.container import Container
from neodyme_domain.use_cases import RegisterCommand
from tests.unit.http.conftest import PASSWORD, bearer

MINE = "/api/v1/users/me/sessions"


async def signed_up(register: Any, email: str) -> dict[str, Any]:
    response = await register(email)
    assert response.status_code == 201
    return dict(response.json())


async def login(client: Any, email: str, agent: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200
    return dict(response.json())


async def test_the_list_shows_every_sign_in_with_the_callers_marked(
    client: Any, register: Any
) -> None:
    await signed_up(register, "list@example.com")
    phone = await login(client, "list@example.com", "Phone/1.0")

    response = await client.get(MINE, headers=bearer(phone["access_token"]))

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["user_agent"], i["current"]) for i in items] == [
        ("Phone/1.0", True),
        ("testclient", False),
    ]
    assert set(items[0]) == {
        "id",
        "created_at",
        "last_used_at",
        "user_agent",
        "client_ip",
        "current",
    }


async def test_ending_another_session_refuses_its_access_token_at_once(
    client: Any, register: Any
) -> None:
    first = await signed_up(register, "end@example.com")
    phone = await login(client, "end@example.com", "Phone/1.0")
    items = (await client.get(MINE, headers=bearer(first["access_token"]))).json()["items"]
    phone_id = next(i["id"] for i in items if i["user_agent"] == "Phone/1.0")

    ended = await client.delete(f"{MINE}/{phone_id}", headers=bearer(first["access_token"]))
    again = await client.delete(f"{MINE}/{phone_id}", headers=bearer(first["access_token"]))
    refused = await client.get("/api/v1/auth/me", headers=bearer(phone["access_token"]))

    assert ended.status_code == 204
    assert (again.status_code, again.json()["error"]["code"]) == (404, "SESSION_NOT_FOUND")
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "INVALID_TOKEN")
    mine = await client.get("/api/v1/auth/me", headers=bearer(first["access_token"]))
    assert mine.status_code == 200


async def test_ending_all_others_keeps_the_callers(client: Any, register: Any) -> None:
    first = await signed_up(register, "others@example.com")
    phone = await login(client, "others@example.com", "Phone/1.0")
    laptop = await login(client, "others@example.com", "Laptop/1.0")

    ended = await client.delete(MINE, headers=bearer(laptop["access_token"]))

    assert ended.status_code == 204
    for gone in (first, phone):
        response = await client.get("/api/v1/auth/me", headers=bearer(gone["access_token"]))
        assert response.status_code == 401
    items = (await client.get(MINE, headers=bearer(laptop["access_token"]))).json()["items"]
    assert [(i["user_agent"], i["current"]) for i in items] == [("Laptop/1.0", True)]
    events = await client.get("/api/v1/users/me/events", headers=bearer(laptop["access_token"]))
    types = [e["type"] for e in events.json()["items"]]
    assert types.count("session_ended") == 2


async def test_an_admin_sees_and_ends_a_users_sessions_others_may_not(
    client: Any, register: Any, container: Container
) -> None:
    user = await signed_up(register, "target@example.com")
    nosy = await signed_up(register, "nosy@example.com")
    await container.register_user()(
        RegisterCommand("boss@example.com", "Boss", PASSWORD, is_superuser=True)
    )
    boss = await login(client, "boss@example.com", "Admin/1.0")
    url = f"/api/v1/users/{user['user']['id']}/sessions"

    forbidden = await client.get(url, headers=bearer(nosy["access_token"]))
    listed = await client.get(url, headers=bearer(boss["access_token"]))
    [item] = listed.json()["items"]
    ended = await client.delete(f"{url}/{item['id']}", headers=bearer(boss["access_token"]))
    unknown = await client.get(
        "/api/v1/users/00000000-0000-4000-8000-000000000000/sessions",
        headers=bearer(boss["access_token"]),
    )
    malformed = await client.get("/api/v1/users/42/sessions", headers=bearer(boss["access_token"]))

    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert (listed.status_code, item["current"]) == (200, False)
    assert ended.status_code == 204
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "USER_NOT_FOUND")
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    me = await client.get("/api/v1/auth/me", headers=bearer(user["access_token"]))
    assert me.status_code == 401
    everyone = await client.delete(url, headers=bearer(boss["access_token"]))
    assert everyone.status_code == 204


async def test_the_session_routes_need_a_token(client: Any) -> None:
    for method, path in (("GET", MINE), ("DELETE", MINE), ("DELETE", f"{MINE}/x")):
        response = await client.request(method, path)
        assert (response.status_code, response.json()["error"]["code"]) == (
            401,
            "NOT_AUTHENTICATED",
        )


async def test_a_session_id_longer_than_any_is_refused_as_invalid(
    client: Any, register: Any
) -> None:
    user = await signed_up(register, "long@example.com")

    response = await client.delete(f"{MINE}/{'x' * 65}", headers=bearer(user["access_token"]))

    assert (response.status_code, response.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
