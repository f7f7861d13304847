"""The browser tier's parts (tests/e2e/browser) and the screenshot writer's
(tests/support/screenshots.py): the system's Chromium driven by Playwright, a server whose
e-mailed links open its own pages, the e-mails read from the SMTP sink without an event
loop, what every page must never do (``PageWatch``), and the journeys a person takes
through the pages (register, sign in, turn on two-factor sign-in), by the labels and
button names of the page contract.

Chromium is Debian's ``chromium`` package (``make browser`` installs it), never a browser
Playwright downloads (``playwright install`` is not used anywhere).

Playwright's sync API runs an event loop of its own, in a greenlet of the thread that
started it, for as long as it is started: on that thread, asyncio finds "a running event
loop", and the asyncio tests that an xdist worker also runs would fail. So the browser
tier keeps Playwright and its Chromium on a thread of their own (``BrowserThread``), one
per session, and runs each browser test's body there; the test process's main thread
never sees Playwright's loop.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self, TypeVar

import pyotp
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.support.server import PORT_ATTEMPTS, ServerProcess, free_port
from tests.support.smtp import SmtpSink

__all__ = [
    "MAIL_TIMEOUT",
    "VIEWPORT",
    "BrowserThread",
    "PageWatch",
    "TwoFactor",
    "app_code",
    "at_account",
    "chromium_executable",
    "expect_alert",
    "expect_status",
    "launch_options",
    "link_in",
    "register",
    "sign_in",
    "sign_out",
    "start_page_server",
    "turn_on_two_factor",
    "wait_for_mail",
]

VIEWPORT: ViewportSize = {"width": 1000, "height": 800}
MAIL_TIMEOUT = 15.0
"""Seconds an e-mail may take to reach the sink (the outbox sends at once on commit)."""
INSTALL_HINT = "sudo apt-get install chromium"


# Chromium


def chromium_executable() -> str:
    """The system's Chromium (Debian's ``chromium``); fails, saying how to install it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(f"the browser tests need Chromium ({INSTALL_HINT})", pytrace=False)
    return found


def launch_options() -> dict[str, Any]:
    """``chromium.launch`` arguments: headless, the system's binary, shared memory in the
    temporary directory (a container's /dev/shm is often too small), and no sandbox when
    running as root (Chromium refuses to start sandboxed as root: CI's case)."""
    return {
        "executable_path": chromium_executable(),
        "headless": True,
        "args": ["--disable-dev-shm-usage", *(["--no-sandbox"] if os.geteuid() == 0 else [])],
    }


T = TypeVar("T")


class BrowserThread:
    """Playwright and one headless Chromium on a thread of their own: ``run(function)``
    calls ``function`` there and returns (or raises) what it did. Every use of ``browser``
    (and of the contexts and pages it makes) must go through ``run``: Playwright's objects
    answer only on the thread that started it."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self._pool.submit(function, *args, **kwargs).result()

    @property
    def browser(self) -> Browser:
        """The running Chromium (started again if it went away); call it through ``run``."""
        if self._playwright is None:
            raise RuntimeError("the browser thread has not been started")
        if self._browser is None or not self._browser.is_connected():
            self._browser = self._playwright.chromium.launch(**launch_options())
        return self._browser

    def start(self) -> Self:
        def start() -> None:
            self._playwright = sync_playwright().start()
            _ = self.browser

        self.run(start)
        return self

    def stop(self) -> None:
        def stop() -> None:
            if self._browser is not None and self._browser.is_connected():
                self._browser.close()
            if self._playwright is not None:
                self._playwright.stop()

        try:
            self.run(stop)
        finally:
            self._pool.shutdown()


# The server


def start_page_server(
    env: Mapping[str, str],
    workdir: Path,
    env_of_url: Callable[[str], Mapping[str, str]] | None = None,
) -> ServerProcess:
    """``neodyme serve`` on a free port with NEODYME_PUBLIC_URL ``http://localhost:<port>``:
    its e-mailed links open its own pages, and its host is a domain name, as a passkey's
    relying-party id must be (browsers refuse IP addresses). The port must be known before
    the server starts, so a port another process takes first is retried with another.
    ``env_of_url``: more settings that depend on the public URL (a sign-in provider's
    client, registered with the redirect URI under it)."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        url = f"http://localhost:{port}"
        public = {"NEODYME_PUBLIC_URL": url, **(env_of_url(url) if env_of_url else {})}
        process = ServerProcess({**env, **public}, workdir, port=port)
        try:
            return process.start()
        except pytest.fail.Exception as failure:
            if attempt == PORT_ATTEMPTS or "address already in use" not in str(failure).lower():
                raise
    raise AssertionError("unreachable")


def public_url(process: ServerProcess) -> str:
    return process.env["NEODYME_PUBLIC_URL"]


# E-mail


def wait_for_mail(
    sink: SmtpSink, kind: str, address: str, timeout: float = MAIL_TIMEOUT
) -> EmailMessage:
    """The ``kind`` e-mail to ``address``, waited for by the sink's own ``wait_for``, on an
    event loop of its own in another thread: Playwright's loop occupies this one."""

    def matches(message: EmailMessage) -> bool:
        return message["X-Neodyme-Kind"] == kind and _recipient(message) == address.lower()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, sink.wait_for(matches, timeout)).result()


def _recipient(message: EmailMessage) -> str:
    addresses = message["To"].addresses
    assert len(addresses) == 1, message["To"]
    return str(addresses[0].addr_spec).lower()


def link_in(message: EmailMessage, base_url: str, path: str) -> str:
    """The one ``{base_url}{path}?token=...`` link of the e-mail (its text part)."""
    body = message.get_body(("plain", "html"))
    text = str((body or message).get_content())
    prefix = f"{base_url}{path}?token="
    links = [word for word in re.split(r"[\s<>\"']+", text) if word.startswith(prefix)]
    assert len(set(links)) == 1, f"expected one {prefix}... link in:\n{text}"
    return links[0]


# What no page may do


@dataclass
class PageWatch:
    """Collects, for every page of a browser context: console errors (Chromium logs a
    Content-Security-Policy violation as one), uncaught script errors, CSP violations (a
    ``securitypolicyviolation`` listener installed before any page script runs), server
    errors (a document answered 5xx), and documents of ``base_url`` served without the
    security headers of the page contract. ``problems()`` lists them; a browser test fails
    at teardown if there is any.

    One console error is Chromium's, not a page's, and is left out: "Failed to load
    resource" for a document that was answered 4xx on purpose (a form re-shown with its
    error, e.g. 401 for a wrong password; the document itself is checked like any other).
    """

    base_url: str
    found: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str, str]] = field(default_factory=list)
    """(page URL, URL the message is about, text) of each console error."""
    documents: list[Response] = field(default_factory=list)
    refused_documents: set[str] = field(default_factory=set)
    """URLs of documents answered 4xx."""

    REPORTER = "__neodymeReportViolation"
    SEEN = "__neodymeViolations"
    """The violations of the current document, also kept in the page (tests wait on it)."""
    LISTENER = (
        f"window.{SEEN} = [];"
        " document.addEventListener('securitypolicyviolation', (event) => {"
        " const seen = `${event.effectiveDirective} blocked ${event.blockedURI}"
        " at ${event.sourceFile}:${event.lineNumber}`;"
        f" window.{SEEN}.push(seen); window.{REPORTER}(seen); }});"
    )
    FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with a status of 4")

    def attach(self, context: BrowserContext) -> None:
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.found.append(f"page error: {error.error}"))
        context.on("response", self._on_response)
        context.expose_binding(self.REPORTER, self._on_violation)
        context.add_init_script(self.LISTENER)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.page.url if message.page else "?"
            self.console_errors.append((where, message.location.get("url") or "", message.text))

    def _on_violation(self, source: Mapping[str, Any], description: str) -> None:
        page = source.get("page")
        where = page.url if isinstance(page, Page) else "?"
        self.found.append(f"CSP violation on {where}: {description}")

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type != "document":
            return
        if 400 <= response.status < 500:
            self.refused_documents.add(response.url)
        if response.status >= 500:
            self.found.append(
                f"{response.request.method} {response.url} -> {response.status} (server error)"
            )
        if response.url.startswith(self.base_url) and not 300 <= response.status < 400:
            self.documents.append(response)

    def _chromiums_own(self, source: str, text: str) -> bool:
        # Chromium names the document with the fragment its form's action had (#section).
        document = source.partition("#")[0]
        return bool(self.FAILED_LOAD.match(text)) and document in self.refused_documents

    def problems(self) -> list[str]:
        """Everything wrong so far; reads the documents' headers (call before closing)."""
        wrong = [
            f"{response.request.method} {response.url} -> {response.status}: {missing}"
            for response in self.documents
            for missing in header_problems(response.all_headers())
        ]
        # After the calls above, which deliver the events still on their way.
        consoled = [
            f"console error on {where} (about {source or '?'}): {text}"
            for where, source, text in self.console_errors
            if not self._chromiums_own(source, text)
        ]
        return self.found + consoled + wrong


REQUIRED_CSP = {
    "default-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
}
"""Directives of the page contract's Content-Security-Policy that no page may relax."""


def csp_directives(header: str) -> dict[str, str]:
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {parts[0].lower(): (parts[1] if len(parts) > 1 else "") for parts in directives}


def header_problems(headers: Mapping[str, str]) -> list[str]:
    """What a page's response lacks of the page contract's security headers."""
    problems = []
    csp = headers.get("content-security-policy")
    if csp is None:
        problems.append("no Content-Security-Policy header")
    else:
        directives = csp_directives(csp)
        problems.extend(
            f"Content-Security-Policy {name} is {directives.get(name)!r}, not {value!r} ({csp})"
            for name, value in REQUIRED_CSP.items()
            if directives.get(name) != value
        )
        if "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
            problems.append(f"Content-Security-Policy allows unsafe scripts or styles: {csp}")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append(f"X-Content-Type-Options is {headers.get('x-content-type-options')!r}")
    if headers.get("referrer-policy") != "no-referrer":
        problems.append(f"Referrer-Policy is {headers.get('referrer-policy')!r}")
    if "no-store" not in headers.get("cache-control", ""):
        problems.append(f"Cache-Control is {headers.get('cache-control')!r}, not no-store")
    return problems


# Journeys, by the page contract's labels and button names


def expect_status(page: Page, text: str) -> None:
    """A success message (role=status) saying ``text`` is shown."""
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def expect_alert(page: Page, text: str) -> None:
    """An error message (role=alert) saying ``text`` is shown."""
    expect(page.get_by_role("alert").filter(has_text=text)).to_be_visible()


def at_account(page: Page) -> None:
    """The account page is shown (its sections are there)."""
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Sessions", exact=True)).to_be_visible()


def register(page: Page, full_name: str, email: str, password: str) -> None:
    page.goto("/register")
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    at_account(page)


def sign_in(page: Page, email: str, password: str) -> None:
    """Fill and send the sign-in form (where it leads is the caller's to check)."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page: Page) -> None:
    page.goto("/account")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect_status(page, "You are signed out")


def app_code(secret: str, steps_ahead: int = 0) -> str:
    """What the authenticator app shows now (or ``steps_ahead`` 30-second steps later,
    which the server accepts within its one step of drift: a code is good once)."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=steps_ahead)


@dataclass(frozen=True, slots=True)
class TwoFactor:
    secret: str
    recovery_codes: list[str]


def turn_on_two_factor(page: Page, password: str) -> TwoFactor:
    """On /account: set up with the password, read the secret, confirm with the app's
    code; returns the secret and the recovery codes shown once."""
    page.goto("/account")
    page.get_by_label("Password (to set up two-factor sign-in)").fill(password)
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_alt_text("QR code for your authenticator app")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{16,}=*", secret), f"not a base32 TOTP secret: {secret!r}"
    page.get_by_label("Code from your app").fill(app_code(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect_status(page, "Two-factor sign-in is on")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10, codes
    return TwoFactor(secret, [code.strip() for code in codes])
