"""A new user's account through the pages alone: sign up, the e-mailed verification link,
signing out and in (a wrong password first), deleting the account, and the sign-in form
by keyboard alone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from neodyme_domain.errors import InvalidCredentials
from tests.e2e.api import PASSWORD, unique_email
from tests.e2e.browser.conftest import NewPage
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

WRONG_CREDENTIALS = InvalidCredentials.default_message
"""The API's message for this error: the page contract says the pages show the same."""


def test_sign_up_then_verify_the_address_by_the_emailed_link(
    page: Page, page_server: Server, smtp_sink: SmtpSink
) -> None:
    email = unique_email("page-signup")
    register(page, a_person().full_name, email, PASSWORD)
    expect_status(page, "We sent a link to verify your e-mail address")
    address = page.get_by_role("region", name="E-mail")
    expect(address).to_contain_text("not verified")

    message = wait_for_mail(smtp_sink, "email_verification", email)
    link = link_in(message, page_server.base_url, "/verify-email")
    page.goto(link)
    page.goto(link)  # opened twice (a mail scanner first): a GET never spends the link
    page.get_by_role("button", name="Verify my e-mail address").click()
    expect_status(page, "Your e-mail address is verified")
    page.goto("/account")
    expect(address).to_contain_text(email)
    expect(address).not_to_contain_text("not verified")

    page.goto(link)  # spent: pressing again is refused, in words
    page.get_by_role("button", name="Verify my e-mail address").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="is verified")).to_have_count(0)


def test_sign_out_a_wrong_password_is_refused_the_right_one_signs_in(
    page: Page, new_page: NewPage
) -> None:
    email = unique_email("page-signin")
    register(page, a_person().full_name, email, PASSWORD)
    signed_in = page.context.storage_state()
    cookie = next(c for c in signed_in["cookies"] if c["name"] == "neodyme_session")
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Lax")
    copy = new_page(storage_state=signed_in)  # the same cookie in another browser
    copy.goto("/account")
    at_account(copy)

    sign_out(page)
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login$"))  # signed out: the account is closed
    copy.goto("/account")  # and its session ended: the same cookie opens nothing now
    expect(copy).to_have_url(re.compile(r"/login$"))

    sign_in(page, email, PASSWORD + "x")
    expect_alert(page, WRONG_CREDENTIALS)
    expect(page).to_have_url(re.compile(r"/login$"))

    sign_in(page, email, PASSWORD)
    at_account(page)


def test_delete_the_account(page: Page) -> None:
    email = unique_email("page-delete")
    register(page, a_person().full_name, email, PASSWORD)

    page.get_by_label("Password (to delete your account)").fill(PASSWORD + "x")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_be_visible()  # a wrong password deletes nothing
    expect(page.get_by_role("heading", name="Delete account")).to_be_visible()

    page.get_by_label("Password (to delete your account)").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect_status(page, "Your account was deleted")

    sign_in(page, email, PASSWORD)
    expect_alert(page, WRONG_CREDENTIALS)


def test_sign_in_with_the_keyboard_alone(page: Page) -> None:
    email = unique_email("page-keyboard")
    register(page, a_person().full_name, email, PASSWORD)
    sign_out(page)

    # Every field of the form has an accessible name, from its <label>.
    fields = page.locator("form input:not([type=hidden]), form select, form textarea")
    assert fields.count() >= 2
    for field in fields.all():
        expect(field).to_have_accessible_name(re.compile(r"\S"))
    email_field = page.get_by_label("Email", exact=True)
    password_field = page.get_by_label("Password", exact=True)
    expect(email_field).to_have_attribute("name", "email")
    expect(password_field).to_have_attribute("type", "password")

    # Tab from the top of the page to the e-mail field, as a keyboard user does.
    for _ in range(20):
        page.keyboard.press("Tab")
        if email_field.evaluate("field => field === document.activeElement"):
            break
    expect(email_field).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(password_field).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    at_account(page)
