"""The account's own pages: registration, the e-mailed links (password reset, e-mail
verification, e-mail change) and the forms of /account that change the account itself
(profile, password, e-mail, deletion).

A link's GET only shows a form holding its token; the POST of that form spends it. Mail
scanners and link previews fetch every link of a message, and must not use up the
token before the person does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import QueryParameter, URLEncodedBody

from neodyme_app.http.dependencies import ContainerDep, Origin, SignedIn
from neodyme_app.pages.account_page import SIGNED_IN_PAGE, account_page, refused_in
from neodyme_app.pages.page_session import leave_notice, sign_in, sign_out
from neodyme_app.pages.rendering import AnyRequest, refused, render, see_other
from neodyme_domain.accounts.confirm_email_change import EmailChangeConfirmation
from neodyme_domain.accounts.request_email_change import EmailChangeRequest
from neodyme_domain.errors import DomainError, InvalidLink
from neodyme_domain.use_cases import (
    ChangePasswordCommand,
    DeleteAccountCommand,
    PasswordResetRequest,
    RegisterCommand,
    ResetPasswordCommand,
    UpdateProfileCommand,
    VerificationRequest,
    VerifyEmailCommand,
)

REGISTER_PAGE = "accounts/register.html"
FORGOT_PAGE = "accounts/forgot_password.html"
RESET_PAGE = "accounts/reset_password.html"
VERIFY_PAGE = "accounts/verify_email.html"
CONFIRM_PAGE = "accounts/confirm_email.html"

LINK_SENT = "We sent a link to verify your e-mail address"

LinkToken = Annotated[str | None, QueryParameter(description="The token of the e-mailed link.")]


class RegisterForm(msgspec.Struct):
    full_name: str = ""
    email: str = ""
    password: str = ""


class EmailForm(msgspec.Struct):
    email: str = ""


class TokenForm(msgspec.Struct):
    token: str = ""


class NewPasswordForm(msgspec.Struct):
    token: str = ""
    new_password: str = ""


class ProfileForm(msgspec.Struct):
    full_name: str = ""


class PasswordChangeForm(msgspec.Struct):
    current_password: str = ""
    new_password: str = ""


class EmailChangeForm(msgspec.Struct):
    new_email: str = ""
    password: str = ""


class PasswordForm(msgspec.Struct):
    password: str = ""


def link_page(request: AnyRequest, template: str, token: str | None) -> Any:
    """The form that spends an e-mailed link's token; without a token, the refusal the
    POST would give."""
    if not token:
        return refused(request, template, InvalidLink(), token="")
    return render(request, template, token=token)


class AccountsPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/register")
    async def register_page(self, request: AnyRequest) -> Any:
        return render(request, REGISTER_PAGE)

    @post("/register")
    async def register(
        self,
        request: AnyRequest,
        data: URLEncodedBody[RegisterForm],
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        """Signs the new account in and e-mails it the link that verifies its address."""
        command = RegisterCommand(data.email, data.full_name, data.password, origin=origin)
        try:
            registered = await container.register_user()(command)
        except DomainError as exc:
            return refused(request, REGISTER_PAGE, exc, email=data.email, full_name=data.full_name)
        sign_in(request, registered.tokens)
        notice = LINK_SENT
        try:
            await container.request_verification()(VerificationRequest(registered.user, origin))
        except DomainError:
            notice = (
                "Your account is ready; the verification link could not be sent: ask again below"
            )
        leave_notice(request, notice)
        return see_other(request, "/account")

    @get("/forgot-password")
    async def forgot_password_page(self, request: AnyRequest) -> Any:
        return render(request, FORGOT_PAGE)

    @post("/forgot-password")
    async def forgot_password(
        self,
        request: AnyRequest,
        data: URLEncodedBody[EmailForm],
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        """The same answer whether or not the address has an account."""
        try:
            await container.request_password_reset()(PasswordResetRequest(data.email, origin))
        except DomainError as exc:
            return refused(request, FORGOT_PAGE, exc, email=data.email)
        return render(
            request,
            FORGOT_PAGE,
            success="If an account exists for that address, we sent a link to reset its password",
        )

    @get("/reset-password")
    async def reset_password_page(self, request: AnyRequest, token: LinkToken = None) -> Any:
        return link_page(request, RESET_PAGE, token)

    @post("/reset-password")
    async def reset_password(
        self,
        request: AnyRequest,
        data: URLEncodedBody[NewPasswordForm],
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        command = ResetPasswordCommand(data.token, data.new_password, origin)
        try:
            await container.reset_password()(command)
        except DomainError as exc:
            return refused(request, RESET_PAGE, exc, token=data.token)
        return render(request, RESET_PAGE, success="Your password was changed", done=True)

    @get("/verify-email")
    async def verify_email_page(self, request: AnyRequest, token: LinkToken = None) -> Any:
        return link_page(request, VERIFY_PAGE, token)

    @post("/verify-email")
    async def verify_email(
        self,
        request: AnyRequest,
        data: URLEncodedBody[TokenForm],
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        try:
            await container.verify_email()(VerifyEmailCommand(data.token, origin))
        except DomainError as exc:
            return refused(request, VERIFY_PAGE, exc, token=data.token)
        return render(request, VERIFY_PAGE, success="Your e-mail address is verified", done=True)

    @get("/confirm-email")
    async def confirm_email_page(self, request: AnyRequest, token: LinkToken = None) -> Any:
        return link_page(request, CONFIRM_PAGE, token)

    @post("/confirm-email")
    async def confirm_email(
        self,
        request: AnyRequest,
        data: URLEncodedBody[TokenForm],
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        try:
            user = await container.confirm_email_change()(
                EmailChangeConfirmation(data.token, origin)
            )
        except DomainError as exc:
            return refused(request, CONFIRM_PAGE, exc, token=data.token)
        success = f"Your e-mail address is now {user.email.value}"
        return render(request, CONFIRM_PAGE, success=success, done=True)


class AccountForms(Controller):
    """The forms of /account that change the account itself."""

    path = "/account"
    include_in_schema = False
    dependencies = SIGNED_IN_PAGE

    @post("/profile")
    async def update_profile(
        self,
        request: AnyRequest,
        data: URLEncodedBody[ProfileForm],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        command = UpdateProfileCommand(signed_in.user, data.full_name, origin)
        try:
            user = await container.update_profile()(command)
        except DomainError as exc:
            return await refused_in(request, container, signed_in, "profile", exc)
        renamed = replace(signed_in, user=user)
        return await account_page(
            request, container, renamed, section="profile", success="Profile saved"
        )

    @post("/password")
    async def change_password(
        self,
        request: AnyRequest,
        data: URLEncodedBody[PasswordChangeForm],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        """Every session of the account ends, this one too: the visitor signs in again."""
        command = ChangePasswordCommand(
            signed_in.user, data.current_password, data.new_password, origin
        )
        try:
            await container.change_password()(command)
        except DomainError as exc:
            return await refused_in(request, container, signed_in, "password", exc)
        sign_out(request, "Your password was changed. Sign in again.")
        return see_other(request, "/login")

    @post("/email")
    async def change_email(
        self,
        request: AnyRequest,
        data: URLEncodedBody[EmailChangeForm],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        """Nothing changes until the link sent to the new address is followed."""
        change = EmailChangeRequest(signed_in.user, data.new_email, data.password, origin)
        try:
            await container.request_email_change()(change)
        except DomainError as exc:
            return await refused_in(request, container, signed_in, "email", exc)
        success = f"We sent a confirmation link to {data.new_email.strip()}"
        return await account_page(request, container, signed_in, section="email", success=success)

    @post("/verification")
    async def request_verification(
        self, request: AnyRequest, signed_in: SignedIn, container: ContainerDep, origin: Origin
    ) -> Any:
        """A new link, for the one that expired or never arrived."""
        try:
            await container.request_verification()(VerificationRequest(signed_in.user, origin))
        except DomainError as exc:
            return await refused_in(request, container, signed_in, "email", exc)
        return await account_page(request, container, signed_in, section="email", success=LINK_SENT)

    @post("/delete")
    async def delete_account(
        self,
        request: AnyRequest,
        data: URLEncodedBody[PasswordForm],
        signed_in: SignedIn,
        container: ContainerDep,
        origin: Origin,
    ) -> Any:
        command = DeleteAccountCommand(signed_in.user, data.password, origin)
        try:
            await container.delete_account()(command)
        except DomainError as exc:
            return await refused_in(request, container, signed_in, "delete", exc)
        sign_out(request, "Your account was deleted")
        return see_other(request, "/login")
