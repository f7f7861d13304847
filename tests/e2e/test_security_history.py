"""A user's own security history over the real server process: what happened to the
account, from where and with which client, newest first and page by page."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tests.e2e.api import PASSWORD, Api, Database, expect, expect_error, unique_email

EVENT_FIELDS = {"id", "type", "occurred_at", "client_ip", "user_agent", "data"}


async def test_users_page_through_their_own_security_events_newest_first(
    api: Api, database: Database
) -> None:
    agent = {"User-Agent": f"neodyme-e2e-history/{uuid.uuid4().hex[:8]} (journey)"}
    stranger_agent = {"User-Agent": f"neodyme-e2e-stranger/{uuid.uuid4().hex[:8]}"}
    email = unique_email("history")
    session = expect(await api.register(email, headers=agent), 201)
    user_id = session["user"]["id"]
    expect_error(
        await api.login(email, "WrongPassword123!", headers=agent), 401, "INVALID_CREDENTIALS"
    )
    expect(await api.login(email, PASSWORD, headers=agent), 200)
    # Someone else's history is interleaved in time with this user's, and must stay theirs.
    stranger = unique_email("history-stranger")
    expect(await api.register(stranger, headers=stranger_agent), 201)
    expect_error(
        await api.login(stranger, "WrongPassword123!", headers=stranger_agent),
        401,
        "INVALID_CREDENTIALS",
    )
    expect(await api.login(stranger, PASSWORD, headers=stranger_agent), 200)

    first = expect(await api.my_events(session["access_token"], limit=2), 200)
    assert set(first) == {"items", "next_cursor"}
    assert first["next_cursor"] is not None
    rest = expect(await api.my_events(session["access_token"], cursor=first["next_cursor"]), 200)
    assert rest["next_cursor"] is None
    events: list[dict[str, Any]] = first["items"] + rest["items"]

    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids), f"an event on two pages: {first} then {rest}"
    assert [e["type"] for e in events] == ["user_login", "login_failed", "user_registration"]
    assert events[1]["data"]["reason"] == "invalid_password"
    for event in events:
        assert set(event) == EVENT_FIELDS, event
        assert event["client_ip"] == "127.0.0.1", event
        assert event["user_agent"] == agent["User-Agent"], event
        assert stranger not in str(event["data"]), event
    times = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert times == sorted(times, reverse=True)
    assert set(ids) == database.event_ids_of(user_id)

    # Reading the history is not itself an event, and its own request's agent is irrelevant.
    again = expect(await api.my_events(session["access_token"], headers=stranger_agent), 200)
    assert again == {"items": events, "next_cursor": None}
    expect_error(await api.my_events("not-a-token"), 401, "INVALID_TOKEN")
