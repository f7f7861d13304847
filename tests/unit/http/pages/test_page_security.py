"""What every page answers with, whatever it shows: the security headers, a CSRF check on
every form, cookies a script cannot read, errors as pages; and the API left as it was."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from neodyme_app.config import Environment, Settings
from neodyme_app.container import Container, build_container
from neodyme_app.http.api_page import SCHEMA_PATH
from tests.unit.http.conftest import PASSWORD, serving
from tests.unit.http.pages.conftest import BASE_URL, Browser, Outline, messages

PUBLIC_PAGES = [
    "/login",
    "/register",
    "/forgot-password",
    "/reset-password?token=from-the-mail",
    "/verify-email?token=from-the-mail",
    "/confirm-email?token=from-the-mail",
]


def nonce_of(page: httpx.Response) -> str:
    found = re.search(r"script-src 'nonce-([^']+)'", page.headers["content-security-policy"])
    assert found is not None
    return found.group(1)


def assert_secured(page: httpx.Response) -> None:
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "style-src 'self'" in policy
    assert "form-action 'self'" in policy
    assert "base-uri 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    outline = Outline(page.text)
    assert all(script.get("nonce") == nonce_of(page) for script in outline.scripts)
    assert outline.inline_code == 0


def assert_accessible(page: httpx.Response) -> None:
    outline = Outline(page.text)
    assert outline.h1 == 1
    assert outline.landmarks == {"header", "main"}
    unlabelled = [i["name"] for i in outline.inputs if i.get("id") not in outline.label_targets]
    assert unlabelled == []


@pytest.mark.parametrize("path", PUBLIC_PAGES)
async def test_each_public_page_renders_secured_and_accessible(browser: Browser, path: str) -> None:
    page = await browser.open(path)

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert_secured(page)
    assert_accessible(page)


async def test_the_account_page_renders_secured_and_accessible(browser: Browser) -> None:
    page = await browser.register("secured@example.com")

    assert page.status_code == 200
    assert_secured(page)
    assert_accessible(page)
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", page.text)
    assert headings == [
        "Profile",
        "Password",
        "E-mail",
        "Two-factor sign-in",
        "Passkeys",
        "Sign-in providers",
        "Sessions",
        "Security history",
        "Delete account",
    ]


async def test_every_page_gets_a_fresh_nonce(browser: Browser) -> None:
    first = await browser.open("/login")
    second = await browser.open("/login")

    assert nonce_of(first) != nonce_of(second)
    assert len(nonce_of(first)) >= 16


async def test_the_stylesheet_is_served(browser: Browser) -> None:
    sheet = await browser.open("/static/neodyme.css")

    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in sheet.text


async def test_a_post_without_the_csrf_token_is_refused_with_a_page(browser: Browser) -> None:
    await browser.open("/login")  # the CSRF cookie is set, the form's token not sent
    credentials = {"email": "ada@example.com", "password": PASSWORD}

    without = await browser.client.post("/login", data=credentials)
    forged = await browser.client.post("/login", data={**credentials, "_csrf_token": "0" * 128})

    for refused in (without, forged):
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert messages(refused, "alert") == [
            "This form was refused: it is out of date or did not come from this site."
            " Go back, reload the page and try again."
        ]
        assert_secured(refused)


async def test_a_post_without_any_cookie_is_refused(container: Container) -> None:
    with serving(container) as app:
        async with AsyncTestClient(app=app, base_url=BASE_URL) as client:
            refused = await client.post("/logout", data={"_csrf_token": "x"})

    assert refused.status_code == 403


async def test_page_cookies_are_out_of_reach_of_scripts_and_other_sites(browser: Browser) -> None:
    shown = await browser.open("/register")
    created = await browser.submit(
        "/register", full_name="Ada", email="cookies@example.com", password=PASSWORD
    )

    csrf = shown.headers["set-cookie"]
    session = created.headers["set-cookie"]
    for cookie in (csrf, session):
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/;" in cookie
        assert "Secure" in cookie
    assert session.startswith("neodyme_session=")
    assert "cookies@example.com" not in session  # sealed, not merely encoded
    assert "eyJ" not in session  # no JWT in clear


async def test_cookies_are_not_secure_in_development(settings: Settings) -> None:
    development = dataclasses.replace(settings, environment=Environment.DEVELOPMENT)
    with serving(build_container(development)) as app:
        async with AsyncTestClient(app=app) as client:
            page = await client.get("/login")

    assert "Secure" not in page.headers["set-cookie"]


async def test_an_unexpected_error_is_a_page_without_a_trace(
    browser: Browser, container: Container
) -> None:
    def broken(**_: Any) -> Any:
        raise RuntimeError("SELECT secret FROM users")

    container.request_password_reset.override(providers.Callable(broken))
    await browser.open("/forgot-password")

    failed = await browser.submit("/forgot-password", email="ada@example.com")

    assert failed.status_code == 500
    assert failed.headers["content-type"].startswith("text/html")
    assert messages(failed, "alert")[0].startswith("Internal error (request id ")
    assert "SELECT" not in failed.text
    assert "Traceback" not in failed.text
    assert_secured(failed)


async def test_the_api_needs_no_csrf_token_and_sets_no_page_cookie(browser: Browser) -> None:
    client = browser.client
    body = {"email": "api@example.com", "full_name": "Api User", "password": PASSWORD}

    registered = await client.post("/api/v1/auth/register", json=body)
    logged_in = await client.post(
        "/api/v1/auth/login", json={"email": body["email"], "password": PASSWORD}
    )
    health = await client.get("/health/")

    assert (registered.status_code, logged_in.status_code) == (201, 200)
    for response in (registered, logged_in, health):
        assert "set-cookie" not in response.headers


async def test_a_form_body_to_the_api_is_still_unsupported(browser: Browser) -> None:
    refused = await browser.client.post(
        "/api/v1/auth/login", data={"email": "ada@example.com", "password": PASSWORD}
    )

    assert refused.status_code == 415
    assert refused.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_pages_stay_out_of_the_openapi_document(browser: Browser) -> None:
    document = (await browser.client.get(f"{SCHEMA_PATH}/openapi.json")).json()

    assert all(path.startswith(("/api/", "/health", "/.well-known/")) for path in document["paths"])


async def test_without_pages_only_the_api_is_served(settings: Settings) -> None:
    api_only = dataclasses.replace(settings, pages=False)
    with serving(build_container(api_only)) as app:
        async with AsyncTestClient(app=app, base_url=BASE_URL) as client:
            login = await client.get("/login")
            sheet = await client.get("/static/neodyme.css")
            health = await client.get("/health/")
            refused = await client.post("/api/v1/auth/login", data={"email": "a@example.com"})

    assert (login.status_code, sheet.status_code) == (404, 404)
    assert login.json()["error"]["code"] == "NOT_FOUND"
    assert health.status_code == 200
    assert refused.status_code == 415
