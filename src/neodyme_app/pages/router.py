"""The pages as one Router, with what only they need: the page session, CSRF protection,
HTML error pages; and the static files the app serves for them.

Scoped to this Router, not to the app: the JSON API under /api authenticates with bearer
tokens, which a browser never sends by itself, so it needs no CSRF token (and its clients
no CSRF cookie), nor a session cookie.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from neodyme_app.config import Settings
from neodyme_app.pages.account_page import AccountPage
from neodyme_app.pages.accounts_pages import AccountForms, AccountsPages
from neodyme_app.pages.errors import PAGE_EXCEPTION_HANDLERS
from neodyme_app.pages.federation_pages import FederationPages
from neodyme_app.pages.mfa_pages import MfaPages
from neodyme_app.pages.page_secrets import page_key
from neodyme_app.pages.page_session import secure_cookies, session_middleware
from neodyme_app.pages.passkeys_pages import PasskeysPages
from neodyme_app.pages.rendering import AnyRequest
from neodyme_app.pages.sessions_pages import SessionsPages
from neodyme_app.pages.signin_pages import SigninPages

STATIC_FILES = Path(__file__).resolve().parent.parent / "static"
CSRF_COOKIE = "neodyme_csrf"
FORM_BODY = "form_body"
"""Route option of the pages: their bodies are url-encoded forms, not JSON (the app's
``require_json_body`` lets them through)."""


LOOPBACK = "127.0.0.1"
"""Where ``make run`` serves (its HOST), and what it prints."""


def to_localhost(settings: Settings) -> Callable[[AnyRequest], Awaitable[Redirect | None]]:
    """A hook sending a page opened at the loopback address to the same page at
    ``localhost``, when that is PUBLIC_URL's host (the development default).

    Browsers refuse WebAuthn on an IP-address host, and cookies set for one host are not
    sent to the other: opening ``http://127.0.0.1:8000/register`` (what ``make run``
    prints) would give pages without working passkeys and a sign-in the e-mailed links
    (at ``localhost``) do not see. Any other host is left alone.
    """

    async def redirect(request: AnyRequest) -> Redirect | None:
        url = request.url
        if (
            settings.public_host != "localhost"
            or url.hostname != LOOPBACK
            or request.method not in ("GET", "HEAD")
        ):
            return None
        port = f":{url.port}" if url.port else ""
        query = f"?{url.query}" if url.query else ""
        return Redirect(f"{url.scheme}://localhost{port}{url.path}{query}", status_code=307)

    return redirect


def page_router(settings: Settings) -> Router:
    csrf = CSRFConfig(
        secret=page_key(settings.secret_key, "csrf").hex(),
        cookie_name=CSRF_COOKIE,
        cookie_httponly=True,
        cookie_samesite="lax",
        cookie_secure=secure_cookies(settings),
    )
    return Router(
        path="/",
        route_handlers=[
            SigninPages,
            AccountsPages,
            AccountPage,
            AccountForms,
            MfaPages,
            SessionsPages,
            PasskeysPages,
            FederationPages,
        ],
        middleware=[session_middleware(settings), DefineMiddleware(CSRFMiddleware, config=csrf)],
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        before_request=to_localhost(settings),
        include_in_schema=False,
        opt={FORM_BODY: True},
    )


def static_files() -> Router:
    return create_static_files_router(path="/static", directories=[STATIC_FILES])
