"""Signing in with another OpenID Connect provider through the pages, in Chromium, against
a real provider (the session's ``oidc_provider``): the "Sign in with" link of /login, the
provider's redirects, the callback, the page that links an address an account holds, the
"Sign-in providers" section of /account."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.api import PASSWORD, unique_email
from tests.support.browser import at_account, expect_alert, expect_status, register, sign_out
from tests.support.oidc_provider import OidcProvider

SIGN_IN_WITH = "Sign in with Local Test ID"


def test_a_first_sign_in_with_the_provider_makes_the_account(
    page: Page, oidc_provider: OidcProvider
) -> None:
    email = unique_email("page-oidc")
    oidc_provider.reset()
    oidc_provider.set_account(f"sub-{email}", email, name="Grace Hopper")

    page.goto("/login")
    page.get_by_role("link", name=SIGN_IN_WITH).click()
    at_account(page)
    expect(page.get_by_text("Signed in as Grace Hopper")).to_be_visible()
    providers = page.get_by_role("region", name="Sign-in providers")
    expect(providers.get_by_role("listitem").filter(has_text=email)).to_have_count(1)
    expect(providers.get_by_text("Your account has no password")).to_be_visible()

    # Its only way in cannot be unlinked.
    providers.get_by_role("button", name="Unlink local").click()
    expect_alert(page, "last way to sign in")
    sign_out(page)
    page.get_by_role("link", name=SIGN_IN_WITH).click()  # and it signs in again
    at_account(page)


def test_an_address_an_account_holds_is_linked_with_its_password_then_unlinked(
    page: Page, oidc_provider: OidcProvider
) -> None:
    email = unique_email("page-link")
    register(page, "Ada Lovelace", email, PASSWORD)
    sign_out(page)
    oidc_provider.reset()
    oidc_provider.set_account(f"sub-{email}", email)

    page.get_by_role("link", name=SIGN_IN_WITH).click()
    expect(page.get_by_text(f"An account with the address {email} already exists")).to_be_visible()
    page.get_by_label(f"Password of {email}").fill(PASSWORD)
    page.get_by_role("button", name="Link Local Test ID and sign in").click()
    at_account(page)
    providers = page.get_by_role("region", name="Sign-in providers")
    expect(providers.get_by_role("listitem").filter(has_text=email)).to_have_count(1)

    providers.get_by_role("button", name="Unlink local").click()
    expect_status(page, "Provider unlinked")
    expect(providers.get_by_role("listitem")).to_have_count(0)


def test_an_address_the_provider_did_not_verify_is_refused_on_the_sign_in_page(
    page: Page, oidc_provider: OidcProvider
) -> None:
    email = unique_email("page-unverified")
    oidc_provider.reset()
    oidc_provider.set_account(f"sub-{email}", email, email_verified=False)

    page.goto("/login")
    page.get_by_role("link", name=SIGN_IN_WITH).click()
    expect_alert(page, "has not verified your e-mail address")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
