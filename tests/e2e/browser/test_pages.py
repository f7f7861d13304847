"""What every page owes the browser: the contract's security headers (a fresh script
nonce each time), one <h1>, a CSRF token in each form, and a Content-Security-Policy that
Chromium enforces: no framing, no inline style. (Every page any browser test opens is
also watched for console errors and CSP violations: conftest.py's ``new_page``.)"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.api import PASSWORD, unique_email
from tests.e2e.conftest import Server
from tests.support.browser import PageWatch, csp_directives, header_problems, register
from tests.support.builders import a_person

SIGNED_OUT_PAGES = (
    "/register",
    "/login",
    "/forgot-password",
    "/mfa",
    "/reset-password?token=not-a-real-token",
    "/verify-email?token=not-a-real-token",
    "/confirm-email?token=not-a-real-token",
)

INLINE_STYLE = """() => document.body.insertAdjacentHTML(
    'beforeend', '<p style="color: red">x</p>')"""


def check_page(page: Page, path: str) -> str:
    """Open ``path``; assert the contract's headers, one <h1>, a CSRF token in every form
    that posts; return the script nonce of its Content-Security-Policy."""
    response = page.goto(path)
    assert response is not None
    headers = response.all_headers()
    assert header_problems(headers) == [], f"{path} -> {page.url}"
    expect(page.locator("h1")).to_have_count(1)
    for form in page.locator("form[method=post i]").all():
        expect(form.locator("input[type=hidden][name=_csrf_token]")).to_have_count(1)
    script_src = csp_directives(headers["content-security-policy"]).get("script-src", "")
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9+/_=-]{16,})'", script_src)
    assert nonce is not None, f"{path}: script-src is {script_src!r}"
    return nonce.group(1)


def test_every_page_has_the_security_headers_one_heading_and_csrf_tokens(page: Page) -> None:
    nonces = [check_page(page, path) for path in SIGNED_OUT_PAGES]
    register(page, a_person().full_name, unique_email("page-headers"), PASSWORD)
    nonces.append(check_page(page, "/account"))
    nonces.append(check_page(page, "/account"))
    assert len(set(nonces)) == len(nonces), "a script nonce was served twice"


def test_chromium_refuses_to_frame_a_page(chromium: Browser, page_server: Server) -> None:
    """Outside ``new_page``'s watch: the refusal is a console error, on purpose."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        with page.expect_console_message(
            lambda message: "frame-ancestors" in message.text
        ) as refusal:
            page.set_content(f'<iframe src="{page_server.base_url}/login"></iframe>')
        assert "frame-ancestors 'none'" in refusal.value.text
        assert "blocked" in refusal.value.text.lower()
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("button", name="Sign in", exact=True)).to_have_count(0)
    finally:
        context.close()


def test_the_watch_sees_what_the_policy_blocks(chromium: Browser, page_server: Server) -> None:
    """The check every browser test ends with can fail: an inline style on a page of ours
    is blocked by its policy, and the watch reports it."""
    context = chromium.new_context(base_url=page_server.base_url)
    try:
        watch = PageWatch(page_server.base_url)
        watch.attach(context)
        page = context.new_page()
        page.goto("/login")
        assert watch.problems() == []
        with page.expect_console_message(lambda message: message.type == "error"):
            page.evaluate(INLINE_STYLE)
        page.wait_for_function(f"() => window.{PageWatch.SEEN}.length > 0")
        expect(page.locator("p[style]")).not_to_have_css("color", "rgb(255, 0, 0)")
        problems = watch.problems()
        assert any(p.startswith("CSP violation on") for p in problems), problems
        assert any(p.startswith("console error on") for p in problems), problems
    finally:
        context.close()
