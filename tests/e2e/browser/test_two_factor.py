"""Two-factor sign-in through the pages: turned on from /account with the code of an
authenticator app (computed from the secret the page shows, as the app would), then
signing in through /mfa with a code, and once with a recovery code."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.e2e.api import PASSWORD, unique_email
from tests.e2e.secret_log import SecretLog
from tests.support.browser import (
    app_code,
    at_account,
    register,
    sign_in,
    sign_out,
    turn_on_two_factor,
)
from tests.support.builders import a_person


def second_step(page: Page, email: str) -> None:
    """Sign in with the password: the page asks for the second factor, on /mfa, with no
    token in the address (it is in an HttpOnly cookie)."""
    sign_in(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/mfa$"))
    assert urlsplit(page.url).query == "", page.url
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def enter_code(page: Page, code: str) -> None:
    page.get_by_label("Authentication code").fill(code)
    page.get_by_role("button", name="Verify", exact=True).click()


def test_turn_on_two_factor_then_sign_in_with_a_code_and_once_with_a_recovery_code(
    page: Page, secret_log: SecretLog
) -> None:
    email = unique_email("page-2fa")
    register(page, a_person().full_name, email, PASSWORD)
    two_factor = turn_on_two_factor(page, PASSWORD)
    secret_log.add("TOTP secret shown on a page", two_factor.secret)
    for code in two_factor.recovery_codes:
        secret_log.add("recovery code shown on a page", code)
    sign_out(page)

    second_step(page, email)
    enter_code(page, app_code(two_factor.secret, steps_ahead=10))  # far outside the drift
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/mfa$"))
    # A step after the one the confirmation spent (a code is good once).
    enter_code(page, app_code(two_factor.secret, steps_ahead=1))
    at_account(page)
    sign_out(page)

    recovery = two_factor.recovery_codes[0]
    second_step(page, email)
    enter_code(page, recovery)
    at_account(page)
    sign_out(page)

    second_step(page, email)
    enter_code(page, recovery)  # spent
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/mfa$"))
