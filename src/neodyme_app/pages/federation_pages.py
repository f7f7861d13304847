"""Signing in with another OpenID Connect provider from the pages, and the providers linked
to one's account (its section of /account).

``GET /login/oidc/NAME`` sends the browser to the provider; the provider sends it back to
``/login/oidc/NAME/callback`` (the redirect URI to register with the provider). Starting
changes nothing, so it is a plain link; what protects the callback is that it must come
back to the browser that started it: the ``state`` also travels in a cookie of its own
(HttpOnly, path /login/oidc, SameSite=Lax so that the provider's redirect carries it),
and a callback whose ``state`` is not that cookie's is refused before anything is spent.
Without it, anyone could send a victim the callback URL of their own sign-in and have the
victim signed in to the sender's account (login CSRF).

An address an account already holds: the page asks for that account's password; the
``link_token`` travels in an HttpOnly cookie for /login/oidc/link only, like the login's
``mfa_token``. Every refusal is the sign-in page again with what went wrong and nothing
created: a provider that is down, a cancelled sign-in, a check that failed.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import Cookie
from litestar.params import PathParameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from neodyme_app.config import Settings
from neodyme_app.container import Container
from neodyme_app.http.dependencies import ContainerDep, Origin, SignedIn
from neodyme_app.http.users_controller import parse_user_id
from neodyme_app.pages.account_page import SIGNED_IN_PAGE, account_page, refused_in
from neodyme_app.pages.page_session import secure_cookies, sign_in
from neodyme_app.pages.rendering import AnyRequest, refused, render, see_other
from neodyme_app.pages.security_headers import security_headers
from neodyme_app.pages.signin_pages import LOGIN_PAGE, MFA_PATH, mfa_cookie
from neodyme_domain.errors import DomainError, FederationRefused, LinkRequired, MfaRequired
from neodyme_domain.federation.complete_federation import FederationCallback
from neodyme_domain.federation.confirm_link import LinkConfirmation
from neodyme_domain.federation.model import REQUEST_TTL
from neodyme_domain.federation.unlink_identity import IdentityUnlinking
from neodyme_domain.use_cases.authenticate import Authenticated

STATE_COOKIE = "neodyme_oidc"
LINK_COOKIE = "neodyme_link"
FLOW_PATH = "/login/oidc"
LINK_PATH = f"{FLOW_PATH}/link"
LINK_PAGE = "federation/link.html"
SECTION = "providers"

ProviderName = Annotated[str, PathParameter(max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class LinkForm(msgspec.Struct):
    password: str = ""


def callback_uri(settings: Settings, provider: str) -> str:
    """The redirect URI of the pages, to register with each provider."""
    return f"{settings.public_url.rstrip('/')}{FLOW_PATH}/{provider}/callback"


def state_cookie(settings: Settings, state: str, max_age: int) -> Cookie:
    """Lax: the provider's redirect back is a cross-site navigation, which a Strict cookie
    would not come with. ``max_age`` 0 deletes it."""
    return Cookie(
        key=STATE_COOKIE,
        value=state,
        max_age=max_age,
        path=FLOW_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def link_cookie(settings: Settings, token: str, max_age: int) -> Cookie:
    """Posted from neodyme's own page only: Strict. ``max_age`` 0 deletes it."""
    return Cookie(
        key=LINK_COOKIE,
        value=token,
        max_age=max_age,
        path=LINK_PATH,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(settings),
    )


def login_refused(request: AnyRequest, container: Container, exc: DomainError) -> Template:
    """The sign-in page, saying what went wrong, with its "Sign in with" buttons."""
    return refused(request, LOGIN_PAGE, exc, providers=container.identity_providers().providers())


class FederationPages(Controller):
    path = "/"
    include_in_schema = False

    @get(f"{FLOW_PATH}/{{provider:str}}")
    async def start(
        self, request: AnyRequest, provider: ProviderName, container: ContainerDep
    ) -> Any:
        settings = container.settings()
        try:
            started = await container.begin_federation()(provider, callback_uri(settings, provider))
        except DomainError as exc:
            return login_refused(request, container, exc)
        state = state_cookie(settings, started.state, int(REQUEST_TTL.total_seconds()))
        return Redirect(
            started.url, status_code=303, headers=security_headers(request), cookies=[state]
        )

    @get(f"{FLOW_PATH}/{{provider:str}}/callback")
    async def callback(
        self,
        request: AnyRequest,
        provider: ProviderName,
        container: ContainerDep,
        origin: Origin,
        code: Annotated[str, QueryParameter(max_length=4096)] = "",
        returned_state: Annotated[str, QueryParameter(name="state", max_length=4096)] = "",
        error: Annotated[str, QueryParameter(max_length=256)] = "",
    ) -> Any:
        state = returned_state  # ``state`` is a name Litestar keeps for itself
        settings = container.settings()
        cleared = state_cookie(settings, "", 0)
        try:
            if error:  # the user cancelled, or the provider refused (RFC 6749 4.1.2.1)
                raise FederationRefused(
                    "The sign-in at the provider did not finish; start again",
                    context={"provider": provider, "reason": f"provider said {error[:64]}"},
                )
            if not state or not code or request.cookies.get(STATE_COOKIE) != state:
                raise FederationRefused(context={"provider": provider, "reason": "state cookie"})
            signed_in = await container.complete_federation()(
                FederationCallback(provider, state, code, origin)
            )
        except MfaRequired as asked:
            mfa = mfa_cookie(settings, asked.mfa_token, int(asked.details["expires_in"]))
            return see_other(request, MFA_PATH, [mfa, cleared])
        except LinkRequired as asked:
            link = link_cookie(settings, asked.link_token, int(asked.details["expires_in"]))
            return render(
                request,
                LINK_PAGE,
                cookies=[link, cleared],
                provider=_title(container, str(asked.details["provider"])),
                email=asked.details["email"],
            )
        except DomainError as exc:
            response = login_refused(request, container, exc)
            response.cookies.append(cleared)
            return response
        return _signed_in(request, signed_in, [cleared])

    @post(LINK_PATH)
    async def link(
        self,
        request: AnyRequest,
        data: URLEncodedBody[LinkForm],
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        settings = container.settings()
        cleared = link_cookie(settings, "", 0)
        try:
            token = request.cookies.get(LINK_COOKIE)
            if not token:
                raise FederationRefused("The sign-in took too long: start again")
            signed_in = await container.confirm_link()(
                LinkConfirmation(token, data.password, origin)
            )
        except MfaRequired as asked:
            mfa = mfa_cookie(settings, asked.mfa_token, int(asked.details["expires_in"]))
            return see_other(request, MFA_PATH, [mfa, cleared])
        except DomainError as exc:
            response = login_refused(request, container, exc)
            response.cookies.append(cleared)
            return response
        return _signed_in(request, signed_in, [cleared])

    @post("/account/identities/{identity_id:str}/unlink", dependencies=SIGNED_IN_PAGE)
    async def unlink(
        self,
        request: AnyRequest,
        identity_id: Annotated[str, PathParameter(max_length=64)],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        try:
            target = parse_user_id(identity_id, "identity_id")
            await container.unlink_identity()(IdentityUnlinking(signed_in.user, target, origin))
        except DomainError as exc:
            return await refused_in(request, container, signed_in, SECTION, exc)
        return await account_page(
            request, container, signed_in, section=SECTION, success="Provider unlinked"
        )


def _signed_in(request: AnyRequest, signed_in: Authenticated, cookies: list[Cookie]) -> Redirect:
    sign_in(request, signed_in.tokens)
    return see_other(request, "/account", cookies)


def _title(container: Container, provider: str) -> str:
    titles = {p.name: p.title for p in container.identity_providers().providers()}
    return titles.get(provider, provider)
