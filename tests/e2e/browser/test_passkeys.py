"""Passkeys through the pages, with Chromium's virtual authenticator (the DevTools
protocol's WebAuthn domain) standing in for the laptop's: added on /account, used to sign
in from /login (and for the second step of a password sign-in, on /mfa), then removed.
The page's origin is http://localhost:<port>, a secure context whose host is the
relying-party id (NEODYME_PUBLIC_URL's host)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import CDPSession, Page, expect

from tests.e2e.api import PASSWORD, unique_email
from tests.support.browser import (
    at_account,
    expect_status,
    register,
    sign_in,
    sign_out,
    turn_on_two_factor,
)
from tests.support.builders import a_person

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


class VirtualAuthenticator:
    """A platform authenticator (user verification done) for the page's browser context,
    through the DevTools protocol."""

    def __init__(self, page: Page) -> None:
        self.devtools: CDPSession = page.context.new_cdp_session(page)
        self.devtools.send("WebAuthn.enable")
        added = self.devtools.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        self.id = str(added["authenticatorId"])

    def credentials(self) -> list[dict[str, Any]]:
        held = self.devtools.send("WebAuthn.getCredentials", {"authenticatorId": self.id})
        return list(held["credentials"])


def test_add_a_passkey_sign_in_with_it_then_remove_it(page: Page) -> None:
    email = unique_email("page-passkey")
    register(page, a_person().full_name, email, PASSWORD)
    authenticator = VirtualAuthenticator(page)

    passkeys = page.get_by_role("region", name="Passkeys")
    remove = passkeys.get_by_role("button", name=re.compile(r"^Remove\b"))
    expect(remove).to_have_count(0)
    passkeys.get_by_label("Password (to add a passkey)").fill(PASSWORD)
    passkeys.get_by_label("Name for the new passkey (optional)").fill("Work laptop")
    page.locator("#passkey-add").click()
    expect_status(page, 'Passkey "Work laptop" added')
    expect(passkeys.get_by_role("listitem").filter(has_text="Work laptop")).to_have_count(1)
    expect(remove).to_have_count(1)
    [credential] = authenticator.credentials()
    assert credential["rpId"] == "localhost", credential
    assert credential["isResidentCredential"] is True, credential  # discoverable: no e-mail

    sign_out(page)
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    page.locator("#passkey-signin").click()
    at_account(page)
    assert authenticator.credentials()[0]["signCount"] >= 1  # it signed this sign-in

    remove.click()
    expect_status(page, "Passkey removed")
    expect(remove).to_have_count(0)
    expect(passkeys.get_by_role("listitem").filter(has_text="Work laptop")).to_have_count(0)


def test_a_passkey_completes_a_sign_in_that_asks_for_a_second_factor(page: Page) -> None:
    email = unique_email("page-passkey-mfa")
    register(page, a_person().full_name, email, PASSWORD)
    turn_on_two_factor(page, PASSWORD)
    VirtualAuthenticator(page)
    passkeys = page.get_by_role("region", name="Passkeys")
    passkeys.get_by_label("Password (to add a passkey)").fill(PASSWORD)
    page.locator("#passkey-add").click()
    expect_status(page, "added")

    sign_out(page)
    sign_in(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/mfa$"))
    page.get_by_role("button", name="Use a passkey").click()
    at_account(page)
