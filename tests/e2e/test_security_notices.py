"""Security notices arrive by e-mail, over SMTP, on both databases: a sign-in from a new
device, a password changed (api.md, "Second factor, sessions, e-mail change")."""

from __future__ import annotations

from tests.e2e.api import PASSWORD, Api, Database, Mailbox, expect, unique_email
from tests.e2e.backends import cli, database, server

__all__ = ["cli", "database", "server"]

NEW_PASSWORD = "NoticeMe-Password456?"


async def test_a_sign_in_from_a_new_device_is_told_once(
    api: Api, mailbox: Mailbox, database: Database
) -> None:
    email = unique_email("newdevice")
    await api.signed_up(email)
    phone = {"User-Agent": "NoticePhone/1.0"}

    expect(await api.login(email, headers=phone), 200)
    notice = await mailbox.wait_for("new_device_sign_in", email)
    queued = database.emails_queued_for(email)
    expect(await api.login(email, headers=phone), 200)  # known now: no second notice

    body = notice.get_content()
    assert "NoticePhone/1.0" in body
    assert "If it was not you" in body
    assert database.emails_queued_for(email) == queued


async def test_a_password_change_is_told_to_the_owner(api: Api, mailbox: Mailbox) -> None:
    email = unique_email("pwnotice")
    session = await api.signed_up(email)

    done = await api.change_password(session["access_token"], PASSWORD, NEW_PASSWORD)
    assert done.status_code == 204, done.text

    notice = await mailbox.wait_for("password_changed", email)
    assert notice["Subject"] == "Your neodyme password was changed"
    assert NEW_PASSWORD not in notice.get_content()
