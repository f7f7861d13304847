"""Passkeys on the pages, as static/passkeys.js drives them (the JSON routes with the
page's cookie and CSRF token), answered by the software authenticator; renaming and
removing through their forms. The real browser's run is tests/e2e/browser/test_passkeys.py."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from neodyme_app.config import Settings
from neodyme_app.container import Container
from tests.support.authenticator import SoftAuthenticator
from tests.unit.http.conftest import PASSWORD, serving
from tests.unit.http.pages.conftest import Browser, messages, turn_on_two_factor

CSRF_DATA = re.compile(r'data-csrf="([^"]+)"')


async def script_post(browser: Browser, path: str, body: dict[str, Any]) -> httpx.Response:
    """What passkeys.js sends: JSON, with the CSRF token of the page shown last."""
    assert browser.page is not None
    token = CSRF_DATA.search(browser.page.text)
    assert token is not None, "the page has no passkey box"
    return await browser.client.post(
        path, json=body, headers={"X-CSRFToken": token[1]}, follow_redirects=False
    )


def said(page: httpx.Response, role: str = "status") -> list[str]:
    """The page's messages with ``role``, as the visitor reads them."""
    return [html.unescape(message) for message in messages(page, role)]


@pytest.fixture
def authenticator(settings: Settings) -> SoftAuthenticator:
    return SoftAuthenticator(origin=settings.public_url)


async def add_passkey(
    browser: Browser, authenticator: SoftAuthenticator, name: str | None = None
) -> httpx.Response:
    options = await script_post(browser, "/account/passkeys/options", {"password": PASSWORD})
    assert options.status_code == 200, options.text
    answer = authenticator.create(options.json())
    added = await script_post(browser, "/account/passkeys", {"credential": answer, "name": name})
    assert added.status_code == 200, added.text
    assert added.json() == {"redirect": "/account"}
    return await browser.open("/account")


async def test_add_rename_and_remove_a_passkey(
    browser: Browser, authenticator: SoftAuthenticator
) -> None:
    page = await browser.register("ada@example.com")
    assert "You have no passkey yet." in page.text
    assert 'id="passkey-add"' in page.text

    page = await add_passkey(browser, authenticator, "Work laptop")
    assert said(page) == ['Passkey "Work laptop" added: you can sign in with it']
    [passkey_id] = re.findall(r'action="/account/passkeys/([^/"]+)/remove', page.text)

    renamed = await browser.submit(f"/account/passkeys/{passkey_id}/rename", name="Phone")
    assert said(renamed) == ['Passkey renamed "Phone"']
    assert "<strong>Phone</strong>" in renamed.text
    empty = await browser.submit(f"/account/passkeys/{passkey_id}/rename", name=" ")
    assert empty.status_code == 422
    assert said(empty, "alert") == ["name: must not be empty"]

    removed = await browser.submit(f"/account/passkeys/{passkey_id}/remove")
    assert said(removed) == ["Passkey removed"]
    assert "You have no passkey yet." in removed.text
    again = await browser.submit(f"/account/passkeys/{passkey_id}/remove")
    assert again.status_code == 404
    assert said(again, "alert") == ["Passkey not found"]


async def test_adding_a_passkey_needs_the_password_and_a_right_answer(
    browser: Browser, authenticator: SoftAuthenticator
) -> None:
    await browser.register("ada@example.com")
    wrong = await script_post(browser, "/account/passkeys/options", {"password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "INVALID_CREDENTIALS"

    options = await script_post(browser, "/account/passkeys/options", {"password": PASSWORD})
    elsewhere = authenticator.create(options.json(), origin="https://evil.example")
    refused = await script_post(browser, "/account/passkeys", {"credential": elsewhere})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "The passkey could not be verified"


async def test_the_script_routes_need_the_csrf_token(browser: Browser) -> None:
    await browser.register("ada@example.com")
    response = await browser.client.post(
        "/account/passkeys/options", json={"password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    response = await browser.client.post("/login/passkey/options", json={})
    assert response.status_code == 403


async def test_sign_in_with_a_passkey_from_the_login_page(
    browser: Browser, authenticator: SoftAuthenticator
) -> None:
    await browser.register("ada@example.com")
    await add_passkey(browser, authenticator)
    await browser.submit("/logout")

    login = await browser.open("/login")
    assert 'id="passkey-signin"' in login.text
    options = await script_post(browser, "/login/passkey/options", {})
    assert options.json()["allowCredentials"] == []
    signed_in = await script_post(
        browser, "/login/passkey", {"credential": authenticator.get(options.json())}
    )
    assert signed_in.json() == {"redirect": "/account"}
    account = await browser.open("/account")
    assert account.status_code == 200
    assert "ada@example.com" in account.text

    await browser.submit("/logout")
    await browser.open("/login")
    options = await script_post(browser, "/login/passkey/options", {})
    tampered = authenticator.get(options.json(), tamper=True)
    refused = await script_post(browser, "/login/passkey", {"credential": tampered})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "PASSKEY_REFUSED"
    assert (await browser.open("/account")).status_code == 303


async def test_a_passkey_completes_the_second_step(
    browser: Browser, authenticator: SoftAuthenticator
) -> None:
    await browser.register("ada@example.com")
    await turn_on_two_factor(browser)
    await add_passkey(browser, authenticator)
    await browser.submit("/logout")

    asked = await browser.sign_in("ada@example.com")
    mfa = await browser.follow(asked)
    assert 'id="passkey-mfa"' in mfa.text
    options = await script_post(browser, "/mfa/passkey/options", {})
    assert len(options.json()["allowCredentials"]) == 1
    done = await script_post(
        browser, "/mfa/passkey", {"credential": authenticator.get(options.json())}
    )
    assert done.json() == {"redirect": "/account"}
    assert "neodyme_mfa" not in browser.client.cookies
    assert (await browser.open("/account")).status_code == 200


async def test_the_second_step_needs_a_login_waiting_for_it(browser: Browser) -> None:
    await browser.open("/login")
    response = await script_post(browser, "/mfa/passkey/options", {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_TOKEN"


async def test_a_page_opened_at_the_loopback_address_moves_to_localhost(
    container: Container,
) -> None:
    """Passkeys need a domain name: ``make run`` prints 127.0.0.1, the pages live at
    ``localhost`` (the default public URL's host)."""
    with serving(container) as app:
        async with AsyncTestClient(app=app, base_url="http://127.0.0.1:8000") as client:
            moved = await client.get("/reset-password?token=abc", follow_redirects=False)
            assert moved.status_code == 307
            assert moved.headers["location"] == "http://localhost:8000/reset-password?token=abc"
            api = await client.get("/health")
            assert api.status_code == 200
