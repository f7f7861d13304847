"""A forgotten password, through the pages: the link asked for on /forgot-password, the
e-mail, the new password set on the page the link opens, and signing in with it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from neodyme_domain.errors import InvalidCredentials
from tests.e2e.api import PASSWORD, unique_email
from tests.e2e.browser.conftest import NEW_PASSWORD
from tests.e2e.conftest import Server
from tests.support.browser import (
    at_account,
    expect_alert,
    expect_status,
    link_in,
    register,
    sign_in,
    sign_out,
    wait_for_mail,
)
from tests.support.builders import a_person
from tests.support.smtp import SmtpSink

SENT = "If an account exists for that address, we sent a link to reset its password"


def test_forgot_password_reset_by_the_emailed_link_then_sign_in_with_the_new_one(
    page: Page, page_server: Server, smtp_sink: SmtpSink
) -> None:
    email = unique_email("page-reset")
    register(page, a_person().full_name, email, PASSWORD)
    sign_out(page)

    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(re.compile(r"/forgot-password$"))
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send reset link").click()
    expect_status(page, SENT)

    message = wait_for_mail(smtp_sink, "password_reset", email)
    page.goto(link_in(message, page_server.base_url, "/reset-password"))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect_status(page, "Your password was changed")
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login$"))

    sign_in(page, email, PASSWORD)
    expect_alert(page, InvalidCredentials.default_message)
    sign_in(page, email, NEW_PASSWORD)
    at_account(page)
