"""Request and response bodies as msgspec Structs. They stop at the HTTP edge: handlers turn
them into the domain's commands and back, so the domain never sees a Struct."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from neodyme_domain.messages import SecurityEvent
from neodyme_domain.model import MAX_EMAIL_LENGTH, MAX_FULL_NAME_LENGTH, User
from neodyme_domain.pagination import Page
from neodyme_domain.passwords import MAX_PASSWORD_LENGTH
from neodyme_domain.tokens import TokenPair

EmailField = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EMAIL_LENGTH + 64)]
# The domain trims names and refuses control characters; the bound here stops huge bodies
# from reaching it (trailing spaces may be trimmed away, hence the slack).
NameField = Annotated[str, msgspec.Meta(max_length=MAX_FULL_NAME_LENGTH + 56)]
PasswordField = Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_LENGTH)]
TokenField = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


class Body(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Unknown fields are refused (422): no silent mass assignment."""


class RegisterBody(Body, forbid_unknown_fields=True, frozen=True):
    email: EmailField
    full_name: NameField
    password: PasswordField


class LoginBody(Body, forbid_unknown_fields=True, frozen=True):
    email: EmailField
    password: PasswordField


class RefreshBody(Body, forbid_unknown_fields=True, frozen=True):
    refresh_token: TokenField


class LogoutBody(Body, forbid_unknown_fields=True, frozen=True):
    refresh_token: TokenField


class ChangePasswordBody(Body, forbid_unknown_fields=True, frozen=True):
    current_password: PasswordField
    new_password: PasswordField


class ForgotPasswordBody(Body, forbid_unknown_fields=True, frozen=True):
    email: EmailField


class ResetPasswordBody(Body, forbid_unknown_fields=True, frozen=True):
    token: TokenField
    new_password: PasswordField


class VerifyBody(Body, forbid_unknown_fields=True, frozen=True):
    token: TokenField


class ProfileBody(Body, forbid_unknown_fields=True, frozen=True):
    """Only the name: id, e-mail, flags, password and timestamps are refused (422), not
    silently ignored, so a client learns at once that it cannot set them here."""

    full_name: NameField | None = None


class DeleteAccountBody(Body, forbid_unknown_fields=True, frozen=True):
    password: PasswordField


class AccountStatusBody(Body, forbid_unknown_fields=True, frozen=True):
    is_active: bool | None = None


class UserOut(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    full_name: str
    is_active: bool
    is_verified: bool
    is_superuser: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email.value,
            full_name=user.full_name,
            is_active=user.is_active,
            is_verified=user.is_verified,
            is_superuser=user.is_superuser,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class TokenPairOut(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairOut:
        return cls(pair.access_token, pair.refresh_token, pair.token_type, pair.expires_in)


class SessionOut(msgspec.Struct, frozen=True):
    """Register and login: the token pair plus the user."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: UserOut

    @classmethod
    def of(cls, user: User, pair: TokenPair) -> SessionOut:
        return cls(
            pair.access_token,
            pair.refresh_token,
            pair.token_type,
            pair.expires_in,
            UserOut.of(user),
        )


class UserPage(msgspec.Struct, frozen=True):
    items: list[UserOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[User]) -> UserPage:
        return cls([UserOut.of(user) for user in page.items], page.next_cursor)


class EventOut(msgspec.Struct, frozen=True):
    id: UUID
    type: str
    occurred_at: datetime
    client_ip: str | None
    user_agent: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: SecurityEvent) -> EventOut:
        return cls(
            event.id, event.type, event.occurred_at, event.client_ip, event.user_agent, event.data
        )


class EventPage(msgspec.Struct, frozen=True):
    items: list[EventOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[SecurityEvent]) -> EventPage:
        return cls([EventOut.of(event) for event in page.items], page.next_cursor)


class Accepted(msgspec.Struct, frozen=True):
    """202: the request was taken; what follows happens by e-mail."""

    status: str = "accepted"


class Status(msgspec.Struct, frozen=True, omit_defaults=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class ErrorBody(msgspec.Struct, frozen=True):
    code: str
    message: str
    details: dict[str, Any]
    request_id: str


class ErrorEnvelope(msgspec.Struct, frozen=True):
    """The one shape of every error response (api.md)."""

    error: ErrorBody
