"""The browser tier: the pages of a real ``neodyme serve``, used through Debian's Chromium
(Playwright's sync API, headless), as a person uses them.

The server is the e2e tier's kind (tests/e2e/conftest.py), one per session (per xdist
worker): real process, PostgreSQL scratch database of its own, the session's SMTP sink,
its log audited for secrets by the session's ``secret_log`` and shown with a failing
test's report. Unlike the API tier's, its NEODYME_PUBLIC_URL is itself
(``http://localhost:<port>``), so the e-mailed links open its pages, and its database is
its own, so that its e-mail dispatcher never sends (and counts) the API tier's e-mails.

One Chromium per session too, on a thread of its own with Playwright (``browser_thread``:
Playwright's sync API keeps an event loop running on its thread, which the asyncio tests
of the same worker must not meet), where the body of each test that uses it runs. Each
test gets a fresh browser context per page (``page``, ``new_page``). Every page is
watched (``PageWatch``): a console error, an uncaught script error, a CSP violation, a
server error, or a page without the contract's security headers fails the test at
teardown. Tests are plain functions (no asyncio).
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import create_engine, text
from sqlalchemy import inspect as inspect_database
from sqlalchemy.pool import NullPool

from tests.e2e.api import PASSWORD
from tests.e2e.conftest import SERVERS, Server
from tests.e2e.secret_log import SecretLog
from tests.support.browser import (
    VIEWPORT,
    BrowserThread,
    PageWatch,
    public_url,
    start_page_server,
)
from tests.support.oidc_provider import OidcProvider
from tests.support.postgres import drop_database, resolve_postgres_url, scratch_database
from tests.support.server import migrate, server_env
from tests.support.smtp import SmtpSink

NEW_PASSWORD = "Another-Strong-Passphrase-42"
"""A second password of the book policy, for changes and resets."""

expect.set_options(timeout=10_000)  # a busy two-core CI machine, two workers


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """A real OpenID Connect provider the pages offer to sign in with ("Local Test ID");
    the page server registers its client there once its port is known."""
    with OidcProvider(["http://127.0.0.1:9/unused"]) as provider:
        yield provider


@pytest.fixture(scope="session")
def page_server(
    request: pytest.FixtureRequest,
    worker_id: str,
    smtp_sink: SmtpSink,
    secret_log: SecretLog,
    tmp_path_factory: pytest.TempPathFactory,
    oidc_provider: OidcProvider,
) -> Iterator[Server]:
    """The server whose pages the browser opens, at ``base_url`` http://localhost:<port>,
    with ``oidc_provider`` among its sign-in providers."""
    postgres = resolve_postgres_url()
    name = f"neodyme_browser_{worker_id}_{os.getpid()}"
    database_url = scratch_database(postgres, name)
    workdir = tmp_path_factory.mktemp("neodyme-browser-server")
    assert smtp_sink.auth is not None
    user, password = smtp_sink.auth
    env = server_env(
        database_url,
        smtp_sink.host,
        smtp_sink.port,
        smtp_username=user,
        smtp_password=password,
        log_format="json",
        access_log="on",
    )
    migrate(env, workdir)

    def sign_in_provider(url: str) -> dict[str, str]:
        client = oidc_provider.register_client([f"{url}/login/oidc/local/callback"])
        secret_log.add("provider client secret", client["client_secret"])
        return {"NEODYME_OIDC_PROVIDERS": json.dumps([client])}

    process = start_page_server(env, workdir, sign_in_provider)
    running = Server(public_url(process), process.env, workdir, process.log_path, "browser")
    secret_log.watch(running.log_path, running.env)
    for secret in (PASSWORD, NEW_PASSWORD):
        secret_log.add("password typed into a page", secret)
    request.config.stash.setdefault(SERVERS, {})["browser"] = running
    try:
        yield running
    finally:
        del request.config.stash[SERVERS]["browser"]
        process.stop()
        _remember_hashes(secret_log, database_url)
        drop_database(postgres, name)


def _remember_hashes(secret_log: SecretLog, database_url: str) -> None:
    """The password hashes of the pages' accounts, for the log audit (run after this)."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if inspect_database(connection).has_table("users"):
                rows = connection.execute(text("SELECT hashed_password FROM users"))
                for hashed in rows.scalars():
                    secret_log.add("password hash", str(hashed))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def browser_thread() -> Iterator[BrowserThread]:
    """This session's Playwright and Chromium, on their own thread (tests/support/browser.py
    says why); a test that uses them has its body run there (``pytest_pyfunc_call``)."""
    thread = BrowserThread().start()
    yield thread
    thread.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """The body of a test that uses the browser runs on the browser's thread (its failure
    is raised here as it would be)."""
    thread = pyfuncitem.funcargs.get("browser_thread")
    if not isinstance(thread, BrowserThread):
        return None
    test = pyfuncitem.obj
    names = inspect.signature(test).parameters
    thread.run(test, **{name: pyfuncitem.funcargs[name] for name in names})
    return True


@pytest.fixture
def chromium(browser_thread: BrowserThread) -> Browser:
    """The session's Chromium, for a test that makes its own contexts (closing them too)."""
    return browser_thread.run(lambda: browser_thread.browser)


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser_thread: BrowserThread, page_server: Server) -> Iterator[NewPage]:
    """``new_page(**context_options)``: a page in a fresh browser context (its own
    cookies: another device), watched; ``java_script_enabled=False`` for a browser without
    JavaScript. At teardown, whatever any of them did wrong fails the test."""
    opened: list[tuple[BrowserContext, PageWatch]] = []

    def open_page(**options: Any) -> Page:
        context = browser_thread.browser.new_context(
            base_url=page_server.base_url, viewport=VIEWPORT, **options
        )
        context.set_default_timeout(15_000)
        watch = PageWatch(page_server.base_url)
        watch.attach(context)
        opened.append((context, watch))
        return context.new_page()

    def close_all() -> list[str]:
        problems = []
        for context, watch in opened:
            problems.extend(watch.problems())
            context.close()
        return problems

    yield open_page
    problems = browser_thread.run(close_all)
    if problems:
        pytest.fail(
            f"{len(problems)} problem(s) on the pages this test opened:\n" + "\n".join(problems),
            pytrace=False,
        )


@pytest.fixture
def page(browser_thread: BrowserThread, new_page: NewPage) -> Page:
    return browser_thread.run(new_page)
