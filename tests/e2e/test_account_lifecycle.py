"""The account lifecycle against the real server process: e-mailed one-time links that
arrive over SMTP, sessions that end, a profile that changes, an account that goes away."""

from __future__ import annotations

from datetime import datetime

import jwt

from tests.e2e.api import (
    PASSWORD,
    Api,
    Database,
    Mailbox,
    expect,
    expect_error,
    unique_email,
)

NEW_PASSWORD = "BrandNewPassword456?"


async def test_a_forgotten_password_is_reset_with_the_emailed_link_once(
    api: Api, mailbox: Mailbox, database: Database
) -> None:
    email = unique_email("reset")
    stranger = unique_email("reset-unknown")
    session = await api.signed_up(email)
    assert session["user"]["is_verified"] is False

    # The unknown address first: once the known one's e-mail is in, anything queued for the
    # unknown one would have been delivered before it.
    unknown = await api.forgot_password(stranger)
    known = await api.forgot_password(email)

    assert expect(known, 202) == {"status": "accepted"}
    assert (unknown.status_code, unknown.content) == (known.status_code, known.content)
    assert unknown.headers["content-type"] == known.headers["content-type"]
    token = await mailbox.token("password_reset", email)
    assert mailbox.to(stranger) == []
    assert database.emails_queued_for(stranger) == 0

    expect_error(await api.reset_password(token, "weak"), 400, "WEAK_PASSWORD")
    done = await api.reset_password(token, NEW_PASSWORD)
    assert done.status_code == 204, done.text

    expect_error(await api.login(email, PASSWORD), 401, "INVALID_CREDENTIALS")
    relogin = expect(await api.login(email, NEW_PASSWORD), 200)
    assert relogin["user"]["id"] == session["user"]["id"]
    assert relogin["user"]["is_verified"] is True  # the mailbox was proven
    expect_error(await api.me(session["access_token"]), 401, "INVALID_TOKEN")
    expect_error(await api.refresh(session["refresh_token"]), 401, "INVALID_TOKEN")
    expect(await api.me(relogin["access_token"]), 200)

    again = await api.reset_password(token, "AnotherPassword789#")
    expect_error(again, 400, "INVALID_TOKEN")
    assert "www-authenticate" not in again.headers
    expect(await api.login(email, NEW_PASSWORD), 200)
    assert len(mailbox.to(email, "password_reset")) == 1


async def test_the_address_is_verified_with_the_emailed_link_once(
    api: Api, mailbox: Mailbox
) -> None:
    email = unique_email("verify")
    session = await api.signed_up(email)
    token = session["access_token"]

    assert expect(await api.request_verification(token), 202) == {"status": "accepted"}
    link_token = await mailbox.token("email_verification", email)

    verified = expect(await api.verify(link_token), 200)
    assert verified["id"] == session["user"]["id"]
    assert verified["is_verified"] is True
    assert expect(await api.me(token), 200)["is_verified"] is True

    expect_error(await api.verify(link_token), 400, "INVALID_TOKEN")
    expect_error(await api.verify("not-a-real-token"), 400, "INVALID_TOKEN")


async def test_logout_ends_the_session_of_the_refresh_token(api: Api) -> None:
    session = await api.signed_up(unique_email("logout"))

    done = await api.logout(session["refresh_token"])

    assert done.status_code == 204, done.text
    assert done.content == b""
    expect_error(await api.refresh(session["refresh_token"]), 401, "INVALID_TOKEN")
    expect_error(await api.logout(session["refresh_token"]), 401, "INVALID_TOKEN")


async def test_changing_the_password_ends_every_session(api: Api) -> None:
    email = unique_email("change")
    session = await api.signed_up(email)
    other = expect(await api.login(email), 200)  # a second session, on another device
    token = session["access_token"]

    wrong = await api.change_password(token, "WrongPassword123!", NEW_PASSWORD)
    expect_error(wrong, 401, "INVALID_CREDENTIALS")
    weak = await api.change_password(token, PASSWORD, "short")
    assert "requirements not met" in expect_error(weak, 400, "WEAK_PASSWORD")["message"]
    expect(await api.me(token), 200)  # neither attempt changed anything

    done = await api.change_password(token, PASSWORD, NEW_PASSWORD)

    assert done.status_code == 204, done.text
    expect_error(await api.me(token), 401, "INVALID_TOKEN")
    expect_error(await api.me(other["access_token"]), 401, "INVALID_TOKEN")
    for refresh_token in (session["refresh_token"], other["refresh_token"]):
        assert (await api.refresh(refresh_token)).status_code == 401
    expect_error(await api.login(email, PASSWORD), 401, "INVALID_CREDENTIALS")
    fresh = expect(await api.login(email, NEW_PASSWORD), 200)
    expect(await api.me(fresh["access_token"]), 200)


async def test_the_profile_name_changes_and_nothing_else_can_be_set(api: Api) -> None:
    session = await api.signed_up(unique_email("profile"), full_name="Old Name")
    token = session["access_token"]
    before = session["user"]

    renamed = expect(await api.update_me(token, full_name="  New Name  "), 200)

    assert renamed["full_name"] == "New Name"
    assert datetime.fromisoformat(renamed["updated_at"]) > datetime.fromisoformat(
        before["updated_at"]
    )
    assert renamed["created_at"] == before["created_at"]
    unchanged = {k: v for k, v in renamed.items() if k not in ("full_name", "updated_at")}
    assert unchanged == {k: v for k, v in before.items() if k not in ("full_name", "updated_at")}

    escalation = await api.update_me(token, full_name="Mallory", is_superuser=True)
    expect_error(escalation, 422, "VALIDATION_ERROR")
    only_flag = await api.update_me(token, is_superuser=True, is_verified=True)
    expect_error(only_flag, 422, "VALIDATION_ERROR")

    assert expect(await api.me(token), 200) == renamed
    relogin = expect(await api.login(before["email"]), 200)
    assert relogin["user"]["is_superuser"] is False
    claims = jwt.decode(relogin["access_token"], options={"verify_signature": False})
    assert "users:read:any" not in claims["permissions"]


async def test_a_deleted_account_is_gone_and_its_address_free_again(
    api: Api, database: Database
) -> None:
    email = unique_email("delete")
    session = await api.signed_up(email)
    token = session["access_token"]

    expect_error(await api.delete_me(token, "WrongPassword123!"), 401, "INVALID_CREDENTIALS")
    expect(await api.me(token), 200)

    done = await api.delete_me(token, PASSWORD)

    assert done.status_code == 204, done.text
    expect_error(await api.me(token), 401, "INVALID_TOKEN")
    assert (await api.refresh(session["refresh_token"])).status_code == 401
    expect_error(await api.login(email), 401, "INVALID_CREDENTIALS")
    assert database.users_with_email(email) == 0

    again = await api.signed_up(email)
    assert again["user"]["id"] != session["user"]["id"]
    assert database.users_with_email(email) == 1
