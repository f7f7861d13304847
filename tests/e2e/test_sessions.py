"""Sessions over the real server on both databases: each sign-in listed with its device,
ended one at a time or all but the caller's, by the owner or by a superuser."""

from __future__ import annotations

from tests.e2e.api import PASSWORD, Api, Cli, expect, expect_error, unique_email
from tests.e2e.backends import cli, database, server

__all__ = ["cli", "database", "server"]


async def test_a_user_sees_their_sessions_and_ends_them(api: Api) -> None:
    email = unique_email("sessions-own")
    first = await api.signed_up(email)
    phone = expect(await api.login(email, headers={"User-Agent": "Phone/1.0"}), 200)
    laptop = expect(await api.login(email, headers={"User-Agent": "Laptop/1.0"}), 200)

    listed = expect(await api.sessions(laptop["access_token"]), 200)["items"]
    assert [(s["user_agent"], s["current"]) for s in listed[:2]] == [
        ("Laptop/1.0", True),
        ("Phone/1.0", False),
    ]
    assert len(listed) == 3
    assert all(s["client_ip"] == "127.0.0.1" for s in listed)

    ended = await api.end_session(laptop["access_token"], listed[1]["id"])
    assert ended.status_code == 204, ended.text
    expect_error(await api.me(phone["access_token"]), 401, "INVALID_TOKEN")
    expect_error(await api.refresh(phone["refresh_token"]), 401, "INVALID_TOKEN")

    everywhere = await api.end_other_sessions(laptop["access_token"])
    assert everywhere.status_code == 204, everywhere.text
    expect_error(await api.me(first["access_token"]), 401, "INVALID_TOKEN")
    [only] = expect(await api.sessions(laptop["access_token"]), 200)["items"]
    assert (only["user_agent"], only["current"]) == ("Laptop/1.0", True)


async def test_a_superuser_sees_and_ends_a_users_sessions(api: Api, cli: Cli) -> None:
    admin, email = unique_email("sessions-admin"), unique_email("sessions-target")
    created = await cli.create_user(admin, "Session Admin", PASSWORD, superuser=True)
    assert created.returncode == 0, created.stderr
    signed_in = expect(await api.login(admin), 200)
    admin_token, admin_id = signed_in["access_token"], signed_in["user"]["id"]
    target = await api.signed_up(email)
    user_id = target["user"]["id"]

    [session] = expect(await api.sessions(admin_token, user_id), 200)["items"]
    assert session["current"] is False
    expect_error(await api.sessions(target["access_token"], admin_id), 403, "FORBIDDEN")

    ended = await api.end_other_sessions(admin_token, user_id)
    assert ended.status_code == 204, ended.text
    expect_error(await api.me(target["access_token"]), 401, "INVALID_TOKEN")
    events = expect(await api.my_events(expect(await api.login(email), 200)["access_token"]), 200)
    [record] = [e for e in events["items"] if e["type"] == "session_ended"]
    assert record["data"] == {"session_id": session["id"], "by": "admin"}
