"""The pages behind the e-mailed links: opening a link shows a form and spends nothing
(mail scanners open every link); the form's POST spends the token, once."""

from __future__ import annotations

from neodyme_adapters.memory import RecordingNotifier
from tests.unit.http.conftest import PASSWORD
from tests.unit.http.pages.conftest import Browser, link_token, messages

INVALID_LINK = "The link is invalid, expired or already used"


async def test_forgot_password_answers_the_same_for_any_address(
    browser: Browser, notifier: RecordingNotifier
) -> None:
    await browser.register("forgetful@example.com")
    await browser.submit("/logout")
    await browser.open("/forgot-password")

    known = await browser.submit("/forgot-password", email="forgetful@example.com")
    unknown = await browser.submit("/forgot-password", email="nobody@example.com")

    for page in (known, unknown):
        assert page.status_code == 200
        assert messages(page, "status") == [
            "If an account exists for that address, we sent a link to reset its password"
        ]
    await link_token(notifier, "password_reset", "forgetful@example.com")


async def test_opening_a_reset_link_twice_spends_nothing_and_posting_it_does(
    browser: Browser, notifier: RecordingNotifier
) -> None:
    await browser.register("reset@example.com")
    await browser.submit("/logout")
    await browser.open("/forgot-password")
    await browser.submit("/forgot-password", email="reset@example.com")
    token = await link_token(notifier, "password_reset", "reset@example.com")

    await browser.open(f"/reset-password?token={token}")  # the scanner
    form = await browser.open(f"/reset-password?token={token}")  # the person
    assert f'name="token" value="{token}"' in form.text
    weak = await browser.submit("/reset-password", token=token, new_password="short")
    changed = await browser.submit(
        "/reset-password", token=token, new_password="AnotherPassword456!"
    )
    await browser.open(f"/reset-password?token={token}")
    again = await browser.submit(
        "/reset-password", token=token, new_password="YetAnotherPassword789!"
    )

    assert weak.status_code == 400
    assert messages(weak, "alert")[0].startswith("Password requirements not met")
    assert changed.status_code == 200
    assert messages(changed, "status") == ["Your password was changed"]
    assert '<a href="/login">Sign in</a>' in changed.text
    assert (again.status_code, messages(again, "alert")) == (400, [INVALID_LINK])
    signed_in = await browser.sign_in("reset@example.com", "AnotherPassword456!")
    assert signed_in.headers["location"] == "/account"


async def test_a_link_page_without_its_token_says_the_link_is_broken(browser: Browser) -> None:
    for path in ("/reset-password", "/verify-email", "/confirm-email"):
        page = await browser.open(path)

        assert page.status_code == 400
        assert messages(page, "alert") == [INVALID_LINK]
        assert "<form" not in page.text


async def test_opening_a_verification_link_spends_nothing_and_posting_it_does(
    browser: Browser, notifier: RecordingNotifier
) -> None:
    await browser.register("verify@example.com")
    token = await link_token(notifier, "email_verification", "verify@example.com")

    await browser.open(f"/verify-email?token={token}")
    await browser.open(f"/verify-email?token={token}")
    verified = await browser.submit("/verify-email", token=token)
    await browser.open(f"/verify-email?token={token}")
    again = await browser.submit("/verify-email", token=token)
    account = await browser.open("/account")

    assert verified.status_code == 200
    assert messages(verified, "status") == ["Your e-mail address is verified"]
    assert (again.status_code, messages(again, "alert")) == (400, [INVALID_LINK])
    assert "verify@example.com (verified)" in account.text


async def test_an_e_mail_change_is_confirmed_by_the_link_to_the_new_address(
    browser: Browser, notifier: RecordingNotifier
) -> None:
    await browser.register("old@example.com")

    asked = await browser.submit("/account/email", new_email="new@example.com", password=PASSWORD)
    token = await link_token(notifier, "email_change", "new@example.com")
    form = await browser.open(f"/confirm-email?token={token}")
    confirmed = await browser.submit("/confirm-email", token=token)

    assert messages(asked, "status") == ["We sent a confirmation link to new@example.com"]
    assert "Confirm my new e-mail address" in form.text
    assert messages(confirmed, "status") == ["Your e-mail address is now new@example.com"]
    assert "new@example.com" in (await browser.open("/account")).text
