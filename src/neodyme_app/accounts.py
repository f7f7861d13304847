"""The typed in-process face of neodyme: one method per use case, keyword arguments.

    async with neodyme.open(settings) as accounts:
        registered = await accounts.register(email=..., full_name=..., password=...)

Another Python program should not need to know the container, the command dataclasses or
the providers' names to create an account. Each method only builds its use case's command
and calls the use case the container makes: the rules, the transaction and the errors
(``neodyme_domain.errors``) are the use case's, exactly as over HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from neodyme_app.config import Settings
from neodyme_app.container import Container
from neodyme_app.embedded import open_neodyme
from neodyme_domain.accounts.confirm_email_change import EmailChangeConfirmation
from neodyme_domain.accounts.request_email_change import EmailChangeRequest
from neodyme_domain.messages import NO_ORIGIN, OutboxBacklog, RequestOrigin, SecurityEvent
from neodyme_domain.mfa.confirm_totp import TotpConfirmation
from neodyme_domain.mfa.disable_totp import TotpDisableCommand
from neodyme_domain.mfa.regenerate_recovery_codes import RecoveryCodesRequest
from neodyme_domain.mfa.reset_mfa import MfaResetCommand
from neodyme_domain.mfa.second_factor import SecondFactor
from neodyme_domain.mfa.setup_totp import TotpSetup, TotpSetupCommand
from neodyme_domain.mfa.verify_mfa import MfaVerification
from neodyme_domain.model import User, UserId
from neodyme_domain.pagination import DEFAULT_PAGE_SIZE, Page, PageRequest
from neodyme_domain.passkeys.add_passkey import PasskeyRegistration
from neodyme_domain.passkeys.begin_registration import PasskeyOptionsRequest
from neodyme_domain.passkeys.begin_sign_in import PasskeySignInRequest
from neodyme_domain.passkeys.model import Passkey
from neodyme_domain.passkeys.remove_passkey import PasskeyRemoval
from neodyme_domain.passkeys.rename_passkey import PasskeyRename
from neodyme_domain.passkeys.sign_in import PasskeySignIn
from neodyme_domain.sessions.end_other_sessions import EndOtherSessionsCommand
from neodyme_domain.sessions.end_session import EndSessionCommand
from neodyme_domain.sessions.list_sessions import SessionsQuery, SessionView
from neodyme_domain.tokens.model import TokenPair
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    Authenticated,
    ChangePasswordCommand,
    CurrentUserQuery,
    DeleteAccountCommand,
    Delivery,
    FindUserQuery,
    GetUserQuery,
    ListUsersQuery,
    LogoutCommand,
    PasswordResetRequest,
    RefreshCommand,
    RegisterCommand,
    Registered,
    ResetPasswordCommand,
    SecurityEventsQuery,
    SeedCommand,
    SetUserActiveCommand,
    UpdateProfileCommand,
    VerificationRequest,
    VerifyEmailCommand,
)
from neodyme_domain.use_cases.get_current_user import CurrentSession


@asynccontextmanager
async def open_accounts(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Accounts]:
    """neodyme on ``settings`` for the duration of the block (see ``open_neodyme``: an SQL
    schema is migrated on entry; on exit queued e-mails get a last attempt, connections
    close)."""
    async with open_neodyme(settings, migrate=migrate) as container:
        yield Accounts(container)


class Accounts:
    """Every use case of neodyme as a method. ``origin`` (client address, user agent) is for
    the audit trail of callers that act for a remote user; in-process calls have none."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def operator(self) -> User:
        """The requester for administration from this process (``list_users``,
        ``set_user_active``...): the superuser the ``neodyme`` CLI acts as, never stored."""
        return User.operator(self._container.clock().now())

    # Registration and sessions

    async def register(
        self,
        *,
        email: str,
        full_name: str,
        password: str,
        is_superuser: bool = False,
        origin: RequestOrigin = NO_ORIGIN,
    ) -> Registered:
        command = RegisterCommand(
            email=email,
            full_name=full_name,
            password=password,
            origin=origin,
            is_superuser=is_superuser,
        )
        return await self._container.register_user()(command)

    async def authenticate(
        self, *, email: str, password: str, origin: RequestOrigin = NO_ORIGIN
    ) -> Authenticated:
        command = AuthenticateCommand(email=email, password=password, origin=origin)
        return await self._container.authenticate_user()(command)

    async def refresh(self, *, refresh_token: str, origin: RequestOrigin = NO_ORIGIN) -> TokenPair:
        return await self._container.refresh_tokens()(
            RefreshCommand(refresh_token=refresh_token, origin=origin)
        )

    async def logout(self, *, refresh_token: str, origin: RequestOrigin = NO_ORIGIN) -> None:
        await self._container.logout()(LogoutCommand(refresh_token=refresh_token, origin=origin))

    async def current_user(self, *, access_token: str) -> User:
        return await self._container.get_current_user()(CurrentUserQuery(access_token=access_token))

    async def current_session(self, *, access_token: str) -> CurrentSession:
        """The user and the session (``sid``) of an access token."""
        return await self._container.get_current_user().with_session(
            CurrentUserQuery(access_token=access_token)
        )

    async def list_sessions(
        self, *, requester: User, user_id: UserId | None = None, current: str | None = None
    ) -> list[SessionView]:
        """The live sessions of ``user_id`` (the requester's own by default; another
        user's for a superuser), ``current`` marked."""
        query = SessionsQuery(requester, requester.id if user_id is None else user_id, current)
        return await self._container.list_sessions()(query)

    async def end_session(
        self,
        *,
        requester: User,
        session_id: str,
        user_id: UserId | None = None,
        origin: RequestOrigin = NO_ORIGIN,
    ) -> None:
        target = requester.id if user_id is None else user_id
        await self._container.end_session()(
            EndSessionCommand(requester, target, session_id, origin)
        )

    async def end_other_sessions(
        self,
        *,
        requester: User,
        keep: str | None,
        user_id: UserId | None = None,
        origin: RequestOrigin = NO_ORIGIN,
    ) -> int:
        """End every session of the user but ``keep`` (None: all); how many ended."""
        target = requester.id if user_id is None else user_id
        command = EndOtherSessionsCommand(requester, target, keep, origin)
        return await self._container.end_other_sessions()(command)

    async def verify_mfa(
        self,
        *,
        mfa_token: str,
        code: str | None = None,
        recovery_code: str | None = None,
        origin: RequestOrigin = NO_ORIGIN,
    ) -> Authenticated:
        """Complete a login that raised ``MfaRequired`` (its ``mfa_token``) with the
        authenticator's ``code`` or a ``recovery_code``."""
        factor = SecondFactor(code=code, recovery_code=recovery_code)
        return await self._container.verify_mfa()(MfaVerification(mfa_token, factor, origin))

    # One's own account

    async def change_password(
        self,
        *,
        user: User,
        current_password: str,
        new_password: str,
        origin: RequestOrigin = NO_ORIGIN,
    ) -> None:
        command = ChangePasswordCommand(
            user=user,
            current_password=current_password,
            new_password=new_password,
            origin=origin,
        )
        await self._container.change_password()(command)

    async def request_password_reset(
        self, *, email: str, origin: RequestOrigin = NO_ORIGIN
    ) -> None:
        await self._container.request_password_reset()(
            PasswordResetRequest(email=email, origin=origin)
        )

    async def reset_password(
        self, *, token: str, new_password: str, origin: RequestOrigin = NO_ORIGIN
    ) -> None:
        command = ResetPasswordCommand(token=token, new_password=new_password, origin=origin)
        await self._container.reset_password()(command)

    async def request_verification(self, *, user: User, origin: RequestOrigin = NO_ORIGIN) -> None:
        await self._container.request_verification()(VerificationRequest(user=user, origin=origin))

    async def verify_email(self, *, token: str, origin: RequestOrigin = NO_ORIGIN) -> User:
        return await self._container.verify_email()(VerifyEmailCommand(token=token, origin=origin))

    async def request_email_change(
        self, *, user: User, new_email: str, password: str, origin: RequestOrigin = NO_ORIGIN
    ) -> None:
        request = EmailChangeRequest(user, new_email, password, origin)
        await self._container.request_email_change()(request)

    async def confirm_email_change(self, *, token: str, origin: RequestOrigin = NO_ORIGIN) -> User:
        command = EmailChangeConfirmation(token, origin)
        return await self._container.confirm_email_change()(command)

    async def setup_totp(self, *, user: User, password: str) -> TotpSetup:
        return await self._container.setup_totp()(TotpSetupCommand(user, password))

    async def confirm_totp(
        self, *, user: User, code: str, origin: RequestOrigin = NO_ORIGIN
    ) -> list[str]:
        """Turn two-factor sign-in on; the recovery codes, for the user's eyes only."""
        return await self._container.confirm_totp()(TotpConfirmation(user, code, origin))

    async def regenerate_recovery_codes(
        self, *, user: User, password: str, origin: RequestOrigin = NO_ORIGIN
    ) -> list[str]:
        request = RecoveryCodesRequest(user, password, origin)
        return await self._container.regenerate_recovery_codes()(request)

    async def disable_totp(
        self, *, user: User, password: str, code: str, origin: RequestOrigin = NO_ORIGIN
    ) -> None:
        command = TotpDisableCommand(user, password, code, origin)
        await self._container.disable_totp()(command)

    # Passkeys: options and answers are WebAuthn's JSON, as dicts (``toJSON()`` in a browser)

    async def passkey_registration_options(self, *, user: User, password: str) -> dict[str, object]:
        return await self._container.begin_passkey_registration()(
            PasskeyOptionsRequest(user, password)
        )

    async def add_passkey(
        self,
        *,
        user: User,
        credential: dict[str, object],
        name: str | None = None,
        origin: RequestOrigin = NO_ORIGIN,
    ) -> Passkey:
        registration = PasskeyRegistration(user, credential, name, origin)
        return await self._container.add_passkey()(registration)

    async def list_passkeys(self, *, user: User) -> list[Passkey]:
        return await self._container.list_passkeys()(user)

    async def rename_passkey(self, *, user: User, passkey_id: str, name: str) -> Passkey:
        return await self._container.rename_passkey()(PasskeyRename(user, passkey_id, name))

    async def remove_passkey(
        self, *, user: User, passkey_id: str, origin: RequestOrigin = NO_ORIGIN
    ) -> None:
        await self._container.remove_passkey()(PasskeyRemoval(user, passkey_id, origin))

    async def passkey_sign_in_options(self, *, mfa_token: str | None = None) -> dict[str, object]:
        return await self._container.begin_passkey_sign_in()(PasskeySignInRequest(mfa_token))

    async def sign_in_with_passkey(
        self, *, credential: dict[str, object], origin: RequestOrigin = NO_ORIGIN
    ) -> Authenticated:
        return await self._container.sign_in_with_passkey()(PasskeySignIn(credential, origin))

    async def update_profile(
        self, *, user: User, full_name: str | None = None, origin: RequestOrigin = NO_ORIGIN
    ) -> User:
        command = UpdateProfileCommand(user=user, full_name=full_name, origin=origin)
        return await self._container.update_profile()(command)

    async def delete_account(
        self, *, user: User, password: str, origin: RequestOrigin = NO_ORIGIN
    ) -> None:
        await self._container.delete_account()(
            DeleteAccountCommand(user=user, password=password, origin=origin)
        )

    async def list_security_events(
        self, *, user: User, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[SecurityEvent]:
        query = SecurityEventsQuery(user=user, page=PageRequest(limit=limit, cursor=cursor))
        return await self._container.list_security_events()(query)

    # Administration: ``requester`` must be a superuser (``operator()`` is one)

    async def get_user(self, *, requester: User, user_id: UserId) -> User:
        return await self._container.get_user()(GetUserQuery(requester=requester, user_id=user_id))

    async def find_user(self, *, requester: User, email: str) -> User:
        return await self._container.find_user()(FindUserQuery(requester=requester, email=email))

    async def list_users(
        self, *, requester: User, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[User]:
        query = ListUsersQuery(requester=requester, page=PageRequest(limit=limit, cursor=cursor))
        return await self._container.list_users()(query)

    async def set_user_active(
        self,
        *,
        requester: User,
        user_id: UserId,
        is_active: bool,
        origin: RequestOrigin = NO_ORIGIN,
    ) -> User:
        command = SetUserActiveCommand(
            requester=requester, user_id=user_id, is_active=is_active, origin=origin
        )
        return await self._container.set_user_active()(command)

    async def seed_users(
        self,
        *,
        count: int,
        password: str,
        first_names: Sequence[str],
        last_names: Sequence[str],
    ) -> list[User]:
        command = SeedCommand(
            count=count, password=password, first_names=first_names, last_names=last_names
        )
        return await self._container.seed_users()(command)

    async def reset_mfa(
        self, *, requester: User, user_id: UserId, origin: RequestOrigin = NO_ORIGIN
    ) -> None:
        await self._container.reset_mfa()(MfaResetCommand(requester, user_id, origin))

    # Housekeeping

    async def deliver_outbox(self) -> Delivery:
        """One round of e-mail delivery now (a server's dispatcher does this by itself)."""
        return await self._container.deliver_outbox()()

    async def purge_throttle(self) -> int:
        """Delete expired login throttle states; returns how many."""
        return await self._container.purge_throttle()()

    async def outbox_status(self) -> OutboxBacklog:
        """How many e-mails are pending, failing and dead, and since when the oldest waits."""
        return await self._container.outbox_status()()

    async def retry_outbox(self, *, dead: bool = False) -> int:
        """Make failing e-mails due now (with ``dead``, the given-up ones too); returns how
        many were put back."""
        return await self._container.retry_outbox()(dead=dead)
