"""The "Two-factor sign-in" section of /account: set up and turn on an authenticator app,
turn it off, make new recovery codes.

What is shown once (the secret and its QR code, the recovery codes) is in the answer to
the form that made it, and nowhere else: no page can show it again.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from litestar import Controller, post
from litestar.params import URLEncodedBody

from neodyme_app.http.dependencies import ContainerDep, Origin, SignedIn
from neodyme_app.pages.account_page import SIGNED_IN_PAGE, account_page, refused_in
from neodyme_app.pages.page_session import signed_in as current_visitor
from neodyme_app.pages.rendering import AnyRequest
from neodyme_domain.errors import DomainError
from neodyme_domain.mfa.confirm_totp import TotpConfirmation
from neodyme_domain.mfa.disable_totp import TotpDisableCommand
from neodyme_domain.mfa.regenerate_recovery_codes import RecoveryCodesRequest
from neodyme_domain.mfa.setup_totp import TotpSetupCommand

SECTION = "mfa"


class PasswordForm(msgspec.Struct):
    password: str = ""


class CodeForm(msgspec.Struct):
    code: str = ""


class DisableForm(msgspec.Struct):
    password: str = ""
    code: str = ""


def svg_data_uri(svg: str) -> str:
    """An image the page's policy allows (``img-src data:``), with no markup of its own
    inside the page."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


class MfaPages(Controller):
    path = "/account/mfa"
    include_in_schema = False
    dependencies = SIGNED_IN_PAGE

    @post("/setup")
    async def setup_totp(
        self,
        request: AnyRequest,
        data: URLEncodedBody[PasswordForm],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        """A new secret, pending until a code of the app confirms it."""
        try:
            setup = await container.setup_totp()(
                TotpSetupCommand(signed_in.user, data.password, origin)
            )
        except DomainError as exc:
            return await refused_in(request, container, signed_in, SECTION, exc)
        return await account_page(
            request,
            container,
            signed_in,
            section=SECTION,
            totp_secret=setup.secret,
            totp_qr=svg_data_uri(setup.qr_svg),
        )

    @post("/confirm")
    async def confirm_totp(
        self,
        request: AnyRequest,
        data: URLEncodedBody[CodeForm],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        try:
            codes = await container.confirm_totp()(
                TotpConfirmation(signed_in.user, data.code, origin)
            )
        except DomainError as exc:
            return await refused_in(request, container, signed_in, SECTION, exc, confirming=True)
        return await account_page(
            request,
            container,
            await current_visitor(request, container, origin),
            section=SECTION,
            success="Two-factor sign-in is on",
            recovery_codes=codes,
        )

    @post("/disable")
    async def disable_totp(
        self,
        request: AnyRequest,
        data: URLEncodedBody[DisableForm],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        command = TotpDisableCommand(signed_in.user, data.password, data.code, origin)
        try:
            await container.disable_totp()(command)
        except DomainError as exc:
            return await refused_in(request, container, signed_in, SECTION, exc)
        return await account_page(
            request,
            container,
            await current_visitor(request, container, origin),
            section=SECTION,
            success="Two-factor sign-in is off",
        )

    @post("/recovery-codes")
    async def regenerate_recovery_codes(
        self,
        request: AnyRequest,
        data: URLEncodedBody[PasswordForm],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        """The old codes stop working."""
        try:
            codes = await container.regenerate_recovery_codes()(
                RecoveryCodesRequest(signed_in.user, data.password, origin)
            )
        except DomainError as exc:
            return await refused_in(request, container, signed_in, SECTION, exc)
        return await account_page(
            request,
            container,
            signed_in,
            section=SECTION,
            success="New recovery codes made: the old ones no longer work",
            recovery_codes=codes,
        )
