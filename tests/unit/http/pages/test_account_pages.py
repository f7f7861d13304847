"""The sections of /account: each form changes the account through its use case and
answers with the page as the account now is, the outcome in the form's section."""

from __future__ import annotations

import re

from neodyme_app.container import Container
from neodyme_domain.model import Email
from tests.unit.http.conftest import PASSWORD
from tests.unit.http.pages.conftest import Browser, messages, turn_on_two_factor


def section(page_html: str, name: str) -> str:
    found = re.search(rf'<section id="{name}".*?</section>', page_html, re.S)
    assert found is not None
    return found.group(0)


async def test_the_profile_is_saved(browser: Browser) -> None:
    await browser.register("profile@example.com", full_name="Ada Lovelace")

    saved = await browser.submit("/account/profile", full_name="Ada King")
    empty = await browser.submit("/account/profile", full_name="  ")

    assert saved.status_code == 200
    assert 'role="status">Profile saved<' in section(saved.text, "profile")
    assert 'value="Ada King"' in saved.text
    assert empty.status_code == 422
    assert messages(empty, "alert") == ["full_name: must not be empty"]


async def test_a_password_change_signs_out_everywhere(browser: Browser) -> None:
    await browser.register("change@example.com")

    wrong = await browser.submit(
        "/account/password", current_password="nope", new_password="AnotherPassword456!"
    )
    changed = await browser.submit(
        "/account/password", current_password=PASSWORD, new_password="AnotherPassword456!"
    )
    login = await browser.follow(changed)

    assert wrong.status_code == 401
    assert 'role="alert"' in section(wrong.text, "password")
    assert changed.headers["location"] == "/login"
    assert messages(login, "status") == ["Your password was changed. Sign in again."]
    assert (await browser.open("/account")).headers["location"] == "/login"
    assert (await browser.sign_in("change@example.com", "AnotherPassword456!")).status_code == 303


async def test_a_wrong_password_keeps_the_e_mail(browser: Browser) -> None:
    await browser.register("keep@example.com")

    refused = await browser.submit("/account/email", new_email="x@example.com", password="no")

    assert refused.status_code == 401
    assert messages(refused, "alert") == ["Invalid email or password"]


async def test_two_factor_setup_can_be_started_again_after_a_wrong_code(
    browser: Browser,
) -> None:
    await browser.register("retry@example.com")
    await browser.submit("/account/mfa/setup", password=PASSWORD)

    wrong = await browser.submit("/account/mfa/confirm", code="000000")

    assert wrong.status_code == 401
    mfa = section(wrong.text, "mfa")
    assert "Code from your app" in mfa
    assert "Set up two-factor sign-in" in mfa


async def test_two_factor_sign_in_is_turned_off_with_password_and_recovery_code(
    browser: Browser,
) -> None:
    await browser.register("off@example.com")
    _, codes = await turn_on_two_factor(browser)

    renewed = await browser.submit("/account/mfa/recovery-codes", password=PASSWORD)
    new_codes = re.findall(r"<li><code>([^<]+)</code></li>", renewed.text)
    old_code = await browser.submit("/account/mfa/disable", password=PASSWORD, code=codes[0])
    off = await browser.submit("/account/mfa/disable", password=PASSWORD, code=new_codes[0])

    assert len(new_codes) == 10
    assert not set(new_codes) & set(codes)
    assert old_code.status_code == 401
    assert messages(off, "status") == ["Two-factor sign-in is off"]
    assert "Set up two-factor sign-in" in section(off.text, "mfa")


async def test_other_sessions_are_listed_and_ended(browser: Browser) -> None:
    await browser.register("devices@example.com")
    await browser.client.post(
        "/api/v1/auth/login",
        json={"email": "devices@example.com", "password": PASSWORD},
        headers={"User-Agent": "OtherDevice/1.0"},
    )
    page = await browser.open("/account")
    sessions = section(page.text, "sessions")
    other = re.search(r'action="/account/sessions/([^/"]+)/end', sessions)
    assert other is not None
    assert "This device" in sessions
    assert "OtherDevice/1.0" in sessions

    ended = await browser.submit(f"/account/sessions/{other[1]}/end")
    again = await browser.submit(f"/account/sessions/{other[1]}/end")

    assert messages(ended, "status") == ["Session ended"]
    assert "OtherDevice/1.0" not in section(ended.text, "sessions")
    assert again.status_code == 404
    assert messages(again, "alert") == ["Session not found"]


async def test_all_other_sessions_end_at_once(browser: Browser) -> None:
    await browser.register("everywhere@example.com")
    for _ in range(2):
        await browser.client.post(
            "/api/v1/auth/login", json={"email": "everywhere@example.com", "password": PASSWORD}
        )
    await browser.open("/account")

    ended = await browser.submit("/account/sessions/end-others")

    sessions = section(ended.text, "sessions")
    assert messages(ended, "status")[0].startswith("Session ended")
    assert sessions.count("<tr>") == 2  # the header and this device
    assert "End all other sessions" not in sessions


async def test_the_security_history_is_in_plain_words(browser: Browser) -> None:
    await browser.register("history@example.com")
    await browser.submit("/account/profile", full_name="Someone Else")

    history = section((await browser.open("/account")).text, "history")

    assert "Account created" in history
    assert "Profile changed" in history
    assert "user_registration" not in history


async def test_deleting_the_account_signs_out(browser: Browser, container: Container) -> None:
    await browser.register("gone@example.com")

    wrong = await browser.submit("/account/delete", password="nope")
    deleted = await browser.submit("/account/delete", password=PASSWORD)
    login = await browser.follow(deleted)

    assert wrong.status_code == 401
    assert deleted.headers["location"] == "/login"
    assert messages(login, "status") == ["Your account was deleted"]
    async with container.reader() as uow:
        assert await uow.users.get_by_email(Email.parse("gone@example.com")) is None
