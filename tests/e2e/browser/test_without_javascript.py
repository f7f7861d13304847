"""The pages are plain HTML forms: with JavaScript off, signing up, out and in work, and
the JavaScript-only passkey button is not offered."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.api import PASSWORD, unique_email
from tests.e2e.browser.conftest import NewPage
from tests.support.browser import at_account, register, sign_in, sign_out
from tests.support.builders import a_person


def test_sign_up_out_and_in_without_javascript(new_page: NewPage) -> None:
    page = new_page(java_script_enabled=False)
    page.set_content("<title>off</title><script>document.title = 'on'</script>")
    expect(page).to_have_title("off")  # this browser runs no page script
    email = unique_email("page-nojs")
    register(page, a_person().full_name, email, PASSWORD)
    sign_out(page)
    expect(page.locator("#passkey-signin")).to_be_hidden()
    sign_in(page, email, PASSWORD)
    at_account(page)
