"""Changing the e-mail address over the real server and SMTP, on both databases: the link
read from the e-mail that reached the new address, the notice that reached the old one."""

from __future__ import annotations

from tests.e2e.api import (
    PASSWORD,
    Api,
    Database,
    Mailbox,
    expect,
    expect_error,
    unique_email,
)
from tests.e2e.backends import cli, database, server

__all__ = ["cli", "database", "server"]


async def test_the_address_changes_through_the_link_sent_to_it(
    api: Api, mailbox: Mailbox, database: Database
) -> None:
    old, new = unique_email("before-move"), unique_email("after-move")
    session = await api.signed_up(old)

    expect(await api.change_email(session["access_token"], new, PASSWORD), 202)
    notice = await mailbox.wait_for("email_change_requested", old)
    token = await mailbox.token("email_change", new)
    assert new in notice.get_content()
    assert database.users_with_email(new) == 0  # nothing changes before the link

    changed = expect(await api.confirm_email(token), 200)

    assert (changed["email"], changed["is_verified"]) == (new, True)
    expect_error(await api.confirm_email(token), 400, "INVALID_TOKEN")
    expect(await api.login(new), 200)
    expect_error(await api.login(old), 401, "INVALID_CREDENTIALS")
    types = [e["type"] for e in expect(await api.my_events(session["access_token"]), 200)["items"]]
    assert {"email_change_requested", "email_changed"} <= set(types)


async def test_an_address_taken_before_the_link_is_followed_is_a_conflict(
    api: Api, mailbox: Mailbox, database: Database
) -> None:
    old, wanted = unique_email("slow-mover"), unique_email("contested")
    session = await api.signed_up(old)
    expect(await api.change_email(session["access_token"], wanted, PASSWORD), 202)
    token = await mailbox.token("email_change", wanted)

    await api.signed_up(wanted)  # someone else is quicker

    expect_error(await api.confirm_email(token), 409, "EMAIL_ALREADY_EXISTS")
    assert expect(await api.me(session["access_token"]), 200)["email"] == old
    assert database.users_with_email(wanted) == 1
