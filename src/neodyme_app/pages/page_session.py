"""The page session: a browser's neodyme session, kept in the ``neodyme_session`` cookie.

The cookie holds the token pair the sign-in use case returned (register, login, second
factor), nothing else but a one-time notice for the next page. It is Litestar's
client-side session (``CookieBackendConfig``): AES-256-GCM, so the browser can neither
read the tokens nor forge or alter a session, under a key derived from the secret key
(page_secrets.py). Litestar's rather than a cookie sealed here: its middleware writes the
cookie back whenever a handler changed the session (the rotation of an expired access
token during any page's GET), with the attributes set once below, and clears it when
the session is emptied.

Every signed-in page checks the access token with the API's own check
(``GetCurrentUser.with_session``), which refuses a token whose neodyme session ended: a
logout, "end session" or password change anywhere signs the browser out at its next
request. A refused access token is traded for a new pair once (``RefreshTokens``, which
rotates); if that fails too, the visitor is signed out. So are both of two requests that
found the same access token expired at once (two tabs reloaded together): the second
presents a refresh token the first just spent, which is reuse, and reuse ends the session
(RefreshTokens); that costs a sign-in, never a session two parties share.
"""

from __future__ import annotations

from typing import Any

from litestar.middleware import DefineMiddleware
from litestar.middleware.session import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import ASGIApp

from neodyme_app.config import Environment, Settings
from neodyme_app.http.dependencies import ContainerDep, Origin
from neodyme_app.pages.page_secrets import page_key
from neodyme_app.pages.rendering import AnyRequest
from neodyme_domain.errors import InvalidToken, TokenReused
from neodyme_domain.tokens.model import TokenPair
from neodyme_domain.use_cases import CurrentUserQuery, RefreshCommand
from neodyme_domain.use_cases.get_current_user import CurrentSession

SESSION_COOKIE = "neodyme_session"
ACCESS, REFRESH, NOTICE = "access", "refresh", "notice"


class NotSignedIn(Exception):
    """A page that needs a signed-in visitor got none: answered with a redirect to /login
    (pages/errors.py)."""


def secure_cookies(settings: Settings) -> bool:
    """``Secure`` everywhere but in development, which is served over plain HTTP."""
    return settings.environment is not Environment.DEVELOPMENT


def session_cookie(settings: Settings) -> CookieBackendConfig:
    return CookieBackendConfig(
        secret=page_key(settings.secret_key, "session cookie"),
        key=SESSION_COOKIE,
        # The refresh family's absolute lifetime: the session cannot outlive it anyway.
        max_age=settings.refresh_token_ttl,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def _session_middleware(app: ASGIApp, config: CookieBackendConfig) -> SessionMiddleware[Any]:
    return SessionMiddleware(app=app, backend=ClientSideSessionBackend(config=config))


def session_middleware(settings: Settings) -> DefineMiddleware:
    """``CookieBackendConfig.middleware``, but building its backend (and cipher) when the
    route is built: Litestar deep-copies a Router on registration, and a cipher object
    cannot be copied."""
    return DefineMiddleware(_session_middleware, config=session_cookie(settings))


def sign_in(request: AnyRequest, tokens: TokenPair) -> None:
    request.set_session({ACCESS: tokens.access_token, REFRESH: tokens.refresh_token})


def refresh_token(request: AnyRequest) -> str | None:
    token: str | None = request.session.get(REFRESH)
    return token


def sign_out(request: AnyRequest, notice: str | None = None) -> None:
    """Forget the tokens (the caller ends the neodyme session, if it still lives); keep
    ``notice`` for the next page."""
    request.set_session({NOTICE: notice} if notice else {})


def leave_notice(request: AnyRequest, notice: str) -> None:
    """A message for the next page this browser shows (after a redirect)."""
    request.set_session({**request.session, NOTICE: notice})


def take_notice(request: AnyRequest) -> str | None:
    """The message left for this page, once."""
    if NOTICE not in request.session:
        return None
    session: dict[str, Any] = dict(request.session)
    notice: str = session.pop(NOTICE)
    request.set_session(session)
    return notice


async def signed_in(request: AnyRequest, container: ContainerDep, origin: Origin) -> CurrentSession:
    """The visitor and their session, or ``NotSignedIn``."""
    access, refresh = request.session.get(ACCESS), request.session.get(REFRESH)
    if not access or not refresh:
        raise NotSignedIn
    check = container.get_current_user()
    try:
        return await check.with_session(CurrentUserQuery(access))
    except InvalidToken:
        pass  # expired, most likely: rotate once
    try:
        tokens = await container.refresh_tokens()(RefreshCommand(refresh, origin))
        sign_in(request, tokens)
        return await check.with_session(CurrentUserQuery(tokens.access_token))
    except (InvalidToken, TokenReused):
        sign_out(request)
        raise NotSignedIn from None
