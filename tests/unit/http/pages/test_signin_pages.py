"""/register, /login, /mfa, /logout and the page session: a browser signs in, stays signed
in while its neodyme session lives, and is out as soon as it ends, wherever it ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
from dependency_injector import providers

from neodyme_adapters.clock import ManualClock
from neodyme_app.container import Container
from tests.unit.http.conftest import PASSWORD, bearer
from tests.unit.http.pages.conftest import Browser, messages, turn_on_two_factor


async def test_register_sign_out_and_sign_in_again(browser: Browser) -> None:
    account = await browser.register("ada@example.com", full_name="Ada Lovelace")

    assert messages(account, "status") == ["We sent a link to verify your e-mail address"]
    assert "Ada Lovelace" in account.text
    signed_out = await browser.submit("/logout")
    login = await browser.follow(signed_out)
    assert signed_out.headers["location"] == "/login"
    assert messages(login, "status") == ["You are signed out"]
    assert (await browser.open("/account")).headers["location"] == "/login"

    signed_in = await browser.sign_in("ada@example.com")
    again = await browser.follow(signed_in)

    assert signed_in.headers["location"] == "/account"
    assert again.status_code == 200
    assert messages(again, "status") == []  # the notice was shown once


async def test_sign_out_ends_the_neodyme_session(browser: Browser) -> None:
    await browser.register("leaving@example.com")
    replayed = dict(browser.client.cookies)

    await browser.submit("/logout")
    browser.client.cookies.clear()
    browser.client.cookies.update(replayed)  # the cookie as it was before signing out
    stale = await browser.open("/account")

    assert stale.status_code == 303
    assert stale.headers["location"] == "/login"


async def test_a_wrong_password_shows_the_api_message_with_its_status(browser: Browser) -> None:
    await browser.register("wrong@example.com")
    await browser.submit("/logout")

    refused = await browser.sign_in("wrong@example.com", password="not-the-password")

    assert refused.status_code == 401
    assert messages(refused, "alert") == ["Invalid email or password"]
    assert 'value="wrong@example.com"' in refused.text  # the address stays typed in
    assert "not-the-password" not in refused.text


async def test_an_invalid_field_is_a_422_page_naming_it(browser: Browser) -> None:
    await browser.open("/register")

    refused = await browser.submit("/register", full_name="Ada", email="", password=PASSWORD)

    assert refused.status_code == 422
    assert messages(refused, "alert") == ["email: is not a valid e-mail address"]
    assert 'value="Ada"' in refused.text


async def test_a_taken_address_is_a_409_page(browser: Browser) -> None:
    await browser.register("taken@example.com")
    await browser.submit("/logout")
    await browser.open("/register")

    refused = await browser.submit(
        "/register", full_name="Ada", email="taken@example.com", password=PASSWORD
    )

    assert refused.status_code == 409
    assert messages(refused, "alert") == ["A user with email taken@example.com already exists"]


async def test_two_factor_sign_in_goes_through_mfa(browser: Browser, container: Container) -> None:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    container.clock.override(providers.Object(clock))
    await browser.register("two@example.com")
    secret, codes = await turn_on_two_factor(browser)
    assert len(codes) == 10
    await browser.submit("/logout")

    asked = await browser.sign_in("two@example.com")

    assert asked.status_code == 303
    assert asked.headers["location"] == "/mfa"  # no token in the URL
    cookie = asked.headers["set-cookie"]
    token = browser.client.cookies["neodyme_mfa"]
    assert token not in asked.headers["location"]
    assert "Path=/mfa" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Max-Age=300" in cookie
    mfa = await browser.follow(asked)
    assert mfa.status_code == 200
    assert token not in mfa.text
    wrong = await browser.submit("/mfa", code="000000")
    assert wrong.status_code == 401
    assert messages(wrong, "alert") == ["The code is invalid or was already used"]

    clock.advance(timedelta(seconds=30))  # the code that turned it on was spent
    verified = await browser.submit("/mfa", code=pyotp.TOTP(secret).at(clock.now()))

    assert verified.status_code == 303
    assert verified.headers["location"] == "/account"
    assert "neodyme_mfa=" in verified.headers["set-cookie"]
    assert "neodyme_mfa" not in browser.client.cookies  # deleted
    assert (await browser.follow(verified)).status_code == 200


async def test_a_recovery_code_completes_the_sign_in(browser: Browser) -> None:
    await browser.register("lost-phone@example.com")
    _, codes = await turn_on_two_factor(browser)
    await browser.submit("/logout")
    await browser.follow(await browser.sign_in("lost-phone@example.com"))

    verified = await browser.submit("/mfa", code=codes[0])

    assert verified.headers["location"] == "/account"


async def test_mfa_without_its_cookie_goes_back_to_login(browser: Browser) -> None:
    page = await browser.open("/mfa")

    assert page.status_code == 303
    assert page.headers["location"] == "/login"


async def test_the_account_page_sends_a_signed_out_visitor_to_login(browser: Browser) -> None:
    page = await browser.open("/account")

    assert page.status_code == 303
    assert page.headers["location"] == "/login"
    assert (await browser.open("/")).headers["location"] == "/account"


async def test_a_session_ended_through_the_api_signs_the_page_out(browser: Browser) -> None:
    await browser.register("ended@example.com")
    api = browser.client
    login = await api.post(
        "/api/v1/auth/login", json={"email": "ended@example.com", "password": PASSWORD}
    )
    headers = bearer(login.json()["access_token"])
    sessions = (await api.get("/api/v1/users/me/sessions", headers=headers)).json()["items"]
    page_session = next(s for s in sessions if not s["current"])

    ended = await api.delete(f"/api/v1/users/me/sessions/{page_session['id']}", headers=headers)
    page = await browser.open("/account")

    assert ended.status_code == 204
    assert page.status_code == 303
    assert page.headers["location"] == "/login"


async def test_an_expired_access_token_is_rotated_once(
    browser: Browser, container: Container
) -> None:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    container.clock.override(providers.Object(clock))
    await browser.register("rotate@example.com")
    before = dict(browser.client.cookies)

    clock.advance(timedelta(seconds=container.settings().access_token_ttl + 60))
    refreshed = await browser.open("/account")

    assert refreshed.status_code == 200
    assert browser.client.cookies["neodyme_session"] != before["neodyme_session"]
    # The cookie from before the rotation holds a spent refresh token: presenting it
    # again is reuse, which ends the session for both copies.
    browser.client.cookies.clear()
    browser.client.cookies.update(before)
    replayed = await browser.open("/account")
    assert replayed.headers["location"] == "/login"
