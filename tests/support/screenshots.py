"""``make screenshots``: PNGs of the main pages, as a new user sees them, for the docs.

    python -m tests.support.screenshots [OUT_DIR]      # default docs/screenshots

Starts what it needs and stops it: an SMTP sink, ``neodyme serve`` on a SQLite file in a
temporary directory (NEODYME_PUBLIC_URL pointing at itself, so the e-mailed reset link
opens its page), and the system's Chromium (tests/support/browser.py). Then, at a fixed
viewport (1000x800), one invented person (always the same) goes through the pages and
each is saved as OUT_DIR/<page>.png: login, register, account (two-factor sign-in on, two
sessions listed; the whole page), mfa, reset-password.

What differs from run to run (the TOTP secret and its QR code, the recovery codes, the
times) is painted over, the browser's user agent is fixed and animations are off, so a
run changes the PNGs only where the pages changed (and the server's clock does not show).
The browser tier runs this into a temporary directory (test_screenshots.py); only `make
screenshots` writes docs/.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import (
    VIEWPORT,
    launch_options,
    link_in,
    public_url,
    register,
    sign_in,
    sign_out,
    start_page_server,
    turn_on_two_factor,
    wait_for_mail,
)
from tests.support.server import migrate, server_env
from tests.support.smtp import SmtpSink

PAGES = ("login", "register", "account", "mfa", "reset-password")
"""The PNGs written, by name (``<name>.png``)."""
DEFAULT_OUT = Path("docs/screenshots")

FULL_NAME = "Ada Lovelace"
EMAIL = "ada.lovelace@example.com"
PASSWORD = "Analytical-Engine-1843"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
VARIES = (
    "#totp-secret",
    "#recovery-codes",
    "img[alt='QR code for your authenticator app']",
    "time",
)
"""What differs from one run to the next, painted over: these, and the times shown."""
TIME_SHOWN = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$")
MASK_COLOR = "#c8c8c8"


def shoot(page: Page, out: Path, name: str, *, full_page: bool = False) -> Path:
    path = out / f"{name}.png"
    page.screenshot(
        path=path,
        full_page=full_page,
        animations="disabled",
        caret="hide",
        mask=[
            *(page.locator(selector) for selector in VARIES),
            page.get_by_role("cell", name=TIME_SHOWN),
        ],
        mask_color=MASK_COLOR,
    )
    return path


def capture(browser: Browser, base_url: str, sink: SmtpSink, out: Path) -> list[Path]:
    """Go through the pages at ``base_url`` and save each of ``PAGES`` in ``out``."""
    context = browser.new_context(
        base_url=base_url,
        viewport=VIEWPORT,
        device_scale_factor=1,
        user_agent=USER_AGENT,
        locale="en-GB",
        timezone_id="UTC",
        color_scheme="light",
        reduced_motion="reduce",
    )
    try:
        page = context.new_page()
        saved = []
        page.goto("/login")
        saved.append(shoot(page, out, "login"))
        page.goto("/register")
        saved.append(shoot(page, out, "register"))

        register(page, FULL_NAME, EMAIL, PASSWORD)
        with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as api:
            phone = api.post(
                "/api/v1/auth/login",
                json={"email": EMAIL, "password": PASSWORD},
                headers={"User-Agent": PHONE},
            )
            phone.raise_for_status()  # a second session, before two-factor sign-in is on
        turn_on_two_factor(page, PASSWORD)
        page.goto("/account")
        saved.append(shoot(page, out, "account", full_page=True))

        sign_out(page)
        sign_in(page, EMAIL, PASSWORD)
        page.wait_for_url("**/mfa")
        saved.append(shoot(page, out, "mfa"))

        page.goto("/forgot-password")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_role("button", name="Send reset link").click()
        message = wait_for_mail(sink, "password_reset", EMAIL)
        page.goto(link_in(message, base_url, "/reset-password"))
        saved.append(shoot(page, out, "reset-password"))
        return saved
    finally:
        context.close()


def write_screenshots(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="neodyme-screenshots-") as scratch,
        SmtpSink() as sink,
    ):
        workdir = Path(scratch)
        database_url = f"sqlite+aiosqlite:///{workdir / 'neodyme.db'}"
        env = server_env(database_url, sink.host, sink.port)
        migrate(env, workdir)
        server = start_page_server(env, workdir)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(**launch_options())
                try:
                    return capture(browser, public_url(server), sink, out)
                finally:
                    browser.close()
        finally:
            server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or any(arg.startswith("-") for arg in args):
        print(f"usage: python -m tests.support.screenshots [OUT_DIR] (default {DEFAULT_OUT})")
        return 2
    out = Path(args[0]) if args else DEFAULT_OUT
    for path in write_screenshots(out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
