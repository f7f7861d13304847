"""Passkeys on the pages: adding one on /account, signing in with one on /login, and
completing a login's second step with one on /mfa; renaming and removing on /account.

WebAuthn lives in the browser's JavaScript (``navigator.credentials``), so the ceremonies
are the only page routes a script calls (static/passkeys.js): each is two JSON requests,
the options then the answer, made with the page's session cookie and its CSRF token in
the ``X-CSRFToken`` header. They call the same use cases as the API's
/api/v1/auth/passkeys; a refusal comes back in the API's error envelope, and the script
shows its message. Renaming and removing are plain forms: they work without JavaScript.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, post
from litestar.params import JSONBody, URLEncodedBody

from neodyme_app.http.dependencies import ContainerDep, Origin, SignedIn
from neodyme_app.http.errors import error_response, status_of
from neodyme_app.http.passkeys_controller import PasskeyId
from neodyme_app.pages.account_page import SIGNED_IN_PAGE, account_page, refused_in
from neodyme_app.pages.page_session import leave_notice, sign_in
from neodyme_app.pages.rendering import AnyRequest
from neodyme_app.pages.security_headers import security_headers
from neodyme_app.pages.signin_pages import MFA_COOKIE, MFA_PATH, mfa_cookie
from neodyme_domain.errors import DomainError, InvalidToken
from neodyme_domain.passkeys.add_passkey import PasskeyRegistration
from neodyme_domain.passkeys.begin_registration import PasskeyOptionsRequest
from neodyme_domain.passkeys.begin_sign_in import PasskeySignInRequest
from neodyme_domain.passkeys.remove_passkey import PasskeyRemoval
from neodyme_domain.passkeys.rename_passkey import PasskeyRename
from neodyme_domain.passkeys.sign_in import PasskeySignIn

SECTION = "passkeys"


class OptionsRequest(msgspec.Struct):
    password: str = ""


class Answer(msgspec.Struct):
    credential: dict[str, Any]
    name: str | None = None


class NameForm(msgspec.Struct):
    name: str = ""


def _json(request: AnyRequest, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(body, status_code=200, headers=security_headers(request))


def _refused(request: AnyRequest, exc: DomainError) -> Response[Any]:
    """The API's envelope for the script to show: same code, message and status."""
    return error_response(request, exc.code, exc.message, exc.details, status_of(exc))


def _go_to(request: AnyRequest, path: str) -> Response[dict[str, Any]]:
    """Where the script sends the browser once the ceremony succeeded (a path without a
    fragment: from /account to /account, the browser loads the page again)."""
    return _json(request, {"redirect": path})


class PasskeysPages(Controller):
    path = "/"
    include_in_schema = False

    @post("/account/passkeys/options", dependencies=SIGNED_IN_PAGE)
    async def registration_options(
        self,
        request: AnyRequest,
        data: JSONBody[OptionsRequest],
        signed_in: SignedIn,
        container: ContainerDep,
    ) -> Response[Any]:
        try:
            options = await container.begin_passkey_registration()(
                PasskeyOptionsRequest(signed_in.user, data.password)
            )
        except DomainError as exc:
            return _refused(request, exc)
        return _json(request, options)

    @post("/account/passkeys", dependencies=SIGNED_IN_PAGE)
    async def add(
        self,
        request: AnyRequest,
        data: JSONBody[Answer],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Response[Any]:
        name = data.name.strip() if data.name and data.name.strip() else None
        registration = PasskeyRegistration(signed_in.user, data.credential, name, origin)
        try:
            passkey = await container.add_passkey()(registration)
        except DomainError as exc:
            return _refused(request, exc)
        leave_notice(request, f'Passkey "{passkey.name}" added: you can sign in with it')
        return _go_to(request, "/account")

    @post("/account/passkeys/{passkey_id:str}/rename", dependencies=SIGNED_IN_PAGE)
    async def rename(
        self,
        request: AnyRequest,
        passkey_id: PasskeyId,
        data: URLEncodedBody[NameForm],
        signed_in: SignedIn,
        container: ContainerDep,
    ) -> Any:
        try:
            renamed = await container.rename_passkey()(
                PasskeyRename(signed_in.user, passkey_id, data.name)
            )
        except DomainError as exc:
            return await refused_in(request, container, signed_in, SECTION, exc)
        success = f'Passkey renamed "{renamed.name}"'
        return await account_page(request, container, signed_in, section=SECTION, success=success)

    @post("/account/passkeys/{passkey_id:str}/remove", dependencies=SIGNED_IN_PAGE)
    async def remove(
        self,
        request: AnyRequest,
        passkey_id: PasskeyId,
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        try:
            await container.remove_passkey()(PasskeyRemoval(signed_in.user, passkey_id, origin))
        except DomainError as exc:
            return await refused_in(request, container, signed_in, SECTION, exc)
        return await account_page(
            request, container, signed_in, section=SECTION, success="Passkey removed"
        )

    @post("/login/passkey/options")
    async def sign_in_options(self, request: AnyRequest, container: ContainerDep) -> Response[Any]:
        options = await container.begin_passkey_sign_in()(PasskeySignInRequest())
        return _json(request, options)

    @post("/login/passkey")
    async def sign_in(
        self, request: AnyRequest, data: JSONBody[Answer], container: ContainerDep, origin: Origin
    ) -> Response[Any]:
        try:
            signed_in = await container.sign_in_with_passkey()(
                PasskeySignIn(data.credential, origin)
            )
        except DomainError as exc:
            return _refused(request, exc)
        sign_in(request, signed_in.tokens)
        return _go_to(request, "/account")

    @post(f"{MFA_PATH}/passkey/options")
    async def second_step_options(
        self, request: AnyRequest, container: ContainerDep
    ) -> Response[Any]:
        try:
            options = await container.begin_passkey_sign_in()(
                PasskeySignInRequest(self._mfa_token(request))
            )
        except DomainError as exc:
            return _refused(request, exc)
        return _json(request, options)

    @post(f"{MFA_PATH}/passkey")
    async def second_step(
        self, request: AnyRequest, data: JSONBody[Answer], container: ContainerDep, origin: Origin
    ) -> Response[Any]:
        """The answer's challenge was issued for this login (``second_step_options``):
        it completes that login only."""
        try:
            self._mfa_token(request)
            signed_in = await container.sign_in_with_passkey()(
                PasskeySignIn(data.credential, origin)
            )
        except DomainError as exc:
            return _refused(request, exc)
        sign_in(request, signed_in.tokens)
        response = _go_to(request, "/account")
        response.set_cookie(mfa_cookie(container.settings(), "", 0))
        return response

    @staticmethod
    def _mfa_token(request: AnyRequest) -> str:
        token = request.cookies.get(MFA_COOKIE)
        if not token:
            raise InvalidToken("The sign-in took too long: sign in again")
        return token
