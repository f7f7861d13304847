"""/api/v1/auth: register, log in, refresh, and who am I."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from neodyme_app.http.dependencies import AUTHENTICATED, ContainerDep, CurrentUser, Origin
from neodyme_app.http.errors import documented_errors
from neodyme_app.http.schemas import (
    ACCEPTED,
    Accepted,
    ChangePasswordBody,
    ForgotPasswordBody,
    LoginBody,
    LogoutBody,
    RefreshBody,
    RegisterBody,
    ResetPasswordBody,
    SessionOut,
    TokenPairOut,
    UserOut,
    VerifyBody,
)
from neodyme_domain.accounts.confirm_email_change import EmailChangeConfirmation
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    ChangePasswordCommand,
    LogoutCommand,
    PasswordResetRequest,
    RefreshCommand,
    RegisterCommand,
    ResetPasswordCommand,
    VerificationRequest,
    VerifyEmailCommand,
)

NO_STORE = {"Cache-Control": "no-store"}
"""Token responses must not be cached by browsers or proxies (RFC 6749, 5.1)."""


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/register",
        status_code=201,
        response_headers=NO_STORE,
        responses=documented_errors("WEAK_PASSWORD", "EMAIL_ALREADY_EXISTS"),
    )
    async def register(
        self, data: JSONBody[RegisterBody], container: ContainerDep, origin: Origin
    ) -> SessionOut:
        """Create an account; answers with a session so the client is logged in at once."""
        result = await container.register_user()(
            RegisterCommand(data.email, data.full_name, data.password, origin=origin)
        )
        return SessionOut.of(result.user, result.tokens)

    @post(
        "/login",
        status_code=200,
        response_headers=NO_STORE,
        responses=documented_errors(
            "INVALID_CREDENTIALS", "MFA_REQUIRED", "ACCOUNT_INACTIVE", "TOO_MANY_ATTEMPTS"
        ),
    )
    async def login(
        self, data: JSONBody[LoginBody], container: ContainerDep, origin: Origin
    ) -> SessionOut:
        """Failed logins are counted per account and per client address: over the limits,
        429 TOO_MANY_ATTEMPTS with ``Retry-After`` (seconds), even for the right password."""
        result = await container.authenticate_user()(
            AuthenticateCommand(data.email, data.password, origin=origin)
        )
        return SessionOut.of(result.user, result.tokens)

    @post(
        "/refresh",
        status_code=200,
        response_headers=NO_STORE,
        responses=documented_errors("INVALID_TOKEN", "TOKEN_REUSED"),
    )
    async def refresh(
        self, data: JSONBody[RefreshBody], container: ContainerDep, origin: Origin
    ) -> TokenPairOut:
        """Rotate: the presented refresh token is spent; presenting it again revokes the
        whole session family."""
        pair = await container.refresh_tokens()(RefreshCommand(data.refresh_token, origin))
        return TokenPairOut.of(pair)

    @post(
        "/logout",
        status_code=204,
        responses=documented_errors("INVALID_TOKEN"),
    )
    async def logout(
        self, data: JSONBody[LogoutBody], container: ContainerDep, origin: Origin
    ) -> None:
        """End the session of this refresh token (its whole rotation family)."""
        await container.logout()(LogoutCommand(data.refresh_token, origin))

    @post(
        "/change-password",
        status_code=204,
        dependencies=AUTHENTICATED,
        responses=documented_errors("INVALID_CREDENTIALS", "WEAK_PASSWORD"),
    )
    async def change_password(
        self,
        data: JSONBody[ChangePasswordBody],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> None:
        """Every session of the user ends, this one included: log in again."""
        command = ChangePasswordCommand(
            current_user, data.current_password, data.new_password, origin
        )
        await container.change_password()(command)

    @post(
        "/forgot-password",
        status_code=202,
        responses=documented_errors("TOO_MANY_ATTEMPTS"),
    )
    async def forgot_password(
        self, data: JSONBody[ForgotPasswordBody], container: ContainerDep, origin: Origin
    ) -> Accepted:
        """Always 202 with the same body: whether the address has an account stays secret.
        When it has, a one-time link is e-mailed (valid for NEODYME_RESET_TOKEN_TTL)."""
        await container.request_password_reset()(PasswordResetRequest(data.email, origin))
        return ACCEPTED

    @post(
        "/reset-password",
        status_code=204,
        responses=documented_errors(("INVALID_TOKEN", 400), "WEAK_PASSWORD"),
    )
    async def reset_password(
        self, data: JSONBody[ResetPasswordBody], container: ContainerDep, origin: Origin
    ) -> None:
        """Set a new password with the e-mailed token; every session of the user ends."""
        command = ResetPasswordCommand(data.token, data.new_password, origin)
        await container.reset_password()(command)

    @post(
        "/request-verification",
        status_code=202,
        dependencies=AUTHENTICATED,
    )
    async def request_verification(
        self, current_user: CurrentUser, container: ContainerDep, origin: Origin
    ) -> Accepted:
        """E-mail a one-time link that proves the address (none if already verified)."""
        await container.request_verification()(VerificationRequest(current_user, origin))
        return ACCEPTED

    @post("/verify", status_code=200, responses=documented_errors(("INVALID_TOKEN", 400)))
    async def verify(
        self, data: JSONBody[VerifyBody], container: ContainerDep, origin: Origin
    ) -> UserOut:
        user = await container.verify_email()(VerifyEmailCommand(data.token, origin))
        return UserOut.of(user)

    @post(
        "/confirm-email",
        status_code=200,
        responses=documented_errors(("INVALID_TOKEN", 400), "EMAIL_ALREADY_EXISTS"),
    )
    async def confirm_email(
        self, data: JSONBody[VerifyBody], container: ContainerDep, origin: Origin
    ) -> UserOut:
        """Switch the account to the address the e-mailed link was sent to (verified);
        409 if another account took it meanwhile."""
        command = EmailChangeConfirmation(data.token, origin)
        return UserOut.of(await container.confirm_email_change()(command))

    @get("/me", dependencies=AUTHENTICATED)
    async def me(self, current_user: CurrentUser) -> UserOut:
        return UserOut.of(current_user)
