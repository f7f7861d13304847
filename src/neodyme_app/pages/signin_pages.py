"""/login, /mfa and /logout: signing a browser in (password, then the second factor when
the account has one) and out.

The login's second step needs the ``mfa_token`` of the first: it travels in a cookie of
its own, HttpOnly, sent to /mfa only, same-site only, and living as long as the token, so
it never appears in a URL (browser history, logs, Referer) or within reach of a script.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import Cookie
from litestar.params import URLEncodedBody

from neodyme_app.config import Settings
from neodyme_app.http.dependencies import ContainerDep, Origin
from neodyme_app.pages.page_session import (
    refresh_token,
    secure_cookies,
    sign_in,
    sign_out,
    take_notice,
)
from neodyme_app.pages.rendering import AnyRequest, refused, render, see_other
from neodyme_domain.errors import DomainError, InvalidToken, MfaRequired, ValidationFailed
from neodyme_domain.mfa.second_factor import SecondFactor
from neodyme_domain.mfa.verify_mfa import MfaVerification
from neodyme_domain.use_cases import AuthenticateCommand, LogoutCommand

MFA_COOKIE = "neodyme_mfa"
MFA_PATH = "/mfa"
LOGIN_PAGE = "signin/login.html"
MFA_PAGE = "signin/mfa.html"


class LoginForm(msgspec.Struct):
    email: str = ""
    password: str = ""


class CodeForm(msgspec.Struct):
    code: str = ""


def mfa_cookie(settings: Settings, token: str, max_age: int) -> Cookie:
    """``max_age`` 0 deletes it."""
    return Cookie(
        key=MFA_COOKIE,
        value=token,
        max_age=max_age,
        path=MFA_PATH,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(settings),
    )


class SigninPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/login")
    async def login_page(self, request: AnyRequest, container: ContainerDep) -> Any:
        providers = container.identity_providers().providers()
        return render(request, LOGIN_PAGE, success=take_notice(request), providers=providers)

    @post("/login")
    async def login(
        self,
        request: AnyRequest,
        data: URLEncodedBody[LoginForm],
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        command = AuthenticateCommand(data.email, data.password, origin=origin)
        try:
            result = await container.authenticate_user()(command)
        except MfaRequired as asked:
            ttl = int(asked.details["expires_in"])
            return see_other(
                request, MFA_PATH, [mfa_cookie(container.settings(), asked.mfa_token, ttl)]
            )
        except DomainError as exc:
            providers = container.identity_providers().providers()
            return refused(request, LOGIN_PAGE, exc, email=data.email, providers=providers)
        sign_in(request, result.tokens)
        return see_other(request, "/account")

    @get(MFA_PATH)
    async def mfa_page(self, request: AnyRequest) -> Any:
        if MFA_COOKIE not in request.cookies:
            return see_other(request, "/login")
        return render(request, MFA_PAGE)

    @post(MFA_PATH)
    async def verify_mfa(
        self,
        request: AnyRequest,
        data: URLEncodedBody[CodeForm],
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        token = request.cookies.get(MFA_COOKIE)
        try:
            if not token:
                raise InvalidToken("The sign-in took too long: sign in again")
            if not data.code.strip():
                raise ValidationFailed("code", "enter the code of your app or a recovery code")
            verification = MfaVerification(token, SecondFactor.typed(data.code), origin)
            result = await container.verify_mfa()(verification)
        except DomainError as exc:
            return refused(request, MFA_PAGE, exc)
        sign_in(request, result.tokens)
        return see_other(request, "/account", [mfa_cookie(container.settings(), "", 0)])

    @post("/logout")
    async def logout(self, request: AnyRequest, container: ContainerDep, origin: Origin) -> Any:
        """Ends the neodyme session, not only the cookie; one already ended is no reason
        to keep the visitor in."""
        token = refresh_token(request)
        if token:
            with suppress(InvalidToken):
                await container.logout()(LogoutCommand(token, origin))
        sign_out(request, "You are signed out")
        return see_other(request, "/login")
