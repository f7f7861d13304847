"""/api/v1/auth/mfa: two-factor sign-in (TOTP and recovery codes), and its reset by an
administrator (/api/v1/users/{user_id}/mfa)."""

from __future__ import annotations

from litestar import Controller, delete, post
from litestar.params import JSONBody

from neodyme_app.http.auth_controller import NO_STORE
from neodyme_app.http.dependencies import AUTHENTICATED, ContainerDep, CurrentUser, Origin
from neodyme_app.http.errors import documented_errors
from neodyme_app.http.schemas import (
    CodeBody,
    MfaVerifyBody,
    PasswordBody,
    RecoveryCodesOut,
    SessionOut,
    TotpDisableBody,
    TotpSetupOut,
)
from neodyme_app.http.users_controller import ADMIN_ERRORS, UserId, parse_user_id
from neodyme_domain.errors import ValidationFailed
from neodyme_domain.mfa.confirm_totp import TotpConfirmation
from neodyme_domain.mfa.disable_totp import TotpDisableCommand
from neodyme_domain.mfa.regenerate_recovery_codes import RecoveryCodesRequest
from neodyme_domain.mfa.reset_mfa import MfaResetCommand
from neodyme_domain.mfa.second_factor import SecondFactor
from neodyme_domain.mfa.setup_totp import TotpSetupCommand
from neodyme_domain.mfa.verify_mfa import MfaVerification


class MfaController(Controller):
    path = "/api/v1/auth/mfa"
    tags = ["auth"]

    @post(
        "/totp/setup",
        status_code=200,
        dependencies=AUTHENTICATED,
        response_headers=NO_STORE,
        responses=documented_errors("INVALID_CREDENTIALS", "MFA_ALREADY_ENABLED"),
    )
    async def setup_totp(
        self, data: JSONBody[PasswordBody], current_user: CurrentUser, container: ContainerDep
    ) -> TotpSetupOut:
        """A new secret for an authenticator app (text, ``otpauth://`` URI, QR code as
        SVG), shown this once. Nothing is on until ``/totp/confirm`` gets a code."""
        setup = await container.setup_totp()(TotpSetupCommand(current_user, data.password))
        return TotpSetupOut(setup.secret, setup.otpauth_uri, setup.qr_svg)

    @post(
        "/totp/confirm",
        status_code=200,
        dependencies=AUTHENTICATED,
        response_headers=NO_STORE,
        responses=documented_errors("INVALID_CODE", "MFA_ALREADY_ENABLED", "MFA_SETUP_REQUIRED"),
    )
    async def confirm_totp(
        self,
        data: JSONBody[CodeBody],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> RecoveryCodesOut:
        """Turn two-factor sign-in on with a code from the app; answers the 10 recovery
        codes, shown this once."""
        codes = await container.confirm_totp()(TotpConfirmation(current_user, data.code, origin))
        return RecoveryCodesOut(codes)

    @post(
        "/verify",
        status_code=200,
        response_headers=NO_STORE,
        responses=documented_errors("INVALID_CODE", "INVALID_TOKEN", "TOO_MANY_ATTEMPTS"),
    )
    async def verify(
        self, data: JSONBody[MfaVerifyBody], container: ContainerDep, origin: Origin
    ) -> SessionOut:
        """Complete a login that answered MFA_REQUIRED: its ``mfa_token`` and a code of
        the authenticator (``code``) or a recovery code (``recovery_code``)."""
        if (data.code is None) == (data.recovery_code is None):
            raise ValidationFailed("code", "give exactly one of code and recovery_code")
        factor = SecondFactor(code=data.code, recovery_code=data.recovery_code)
        result = await container.verify_mfa()(MfaVerification(data.mfa_token, factor, origin))
        return SessionOut.of(result.user, result.tokens)

    @post(
        "/recovery-codes",
        status_code=200,
        dependencies=AUTHENTICATED,
        response_headers=NO_STORE,
        responses=documented_errors("INVALID_CREDENTIALS", "MFA_NOT_ENABLED"),
    )
    async def regenerate_recovery_codes(
        self,
        data: JSONBody[PasswordBody],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> RecoveryCodesOut:
        """A new set of recovery codes, shown this once; the old set stops working."""
        request = RecoveryCodesRequest(current_user, data.password, origin)
        return RecoveryCodesOut(await container.regenerate_recovery_codes()(request))

    @post(
        "/totp/disable",
        status_code=204,
        dependencies=AUTHENTICATED,
        responses=documented_errors("INVALID_CREDENTIALS", "INVALID_CODE", "MFA_NOT_ENABLED"),
    )
    async def disable_totp(
        self,
        data: JSONBody[TotpDisableBody],
        current_user: CurrentUser,
        container: ContainerDep,
        origin: Origin,
    ) -> None:
        """Turn two-factor sign-in off: the password and a code (or a recovery code)."""
        command = TotpDisableCommand(current_user, data.password, data.code, origin)
        await container.disable_totp()(command)


class MfaAdminController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    dependencies = AUTHENTICATED

    @delete(
        "/{user_id:str}/mfa",
        status_code=204,
        responses=documented_errors(*ADMIN_ERRORS, "MFA_NOT_ENABLED"),
    )
    async def reset_mfa(
        self, user_id: UserId, current_user: CurrentUser, container: ContainerDep, origin: Origin
    ) -> None:
        """Superusers: turn a user's two-factor sign-in off (they lost every factor); the
        user is told by e-mail and signs in with the password alone."""
        command = MfaResetCommand(current_user, parse_user_id(user_id), origin)
        await container.reset_mfa()(command)
