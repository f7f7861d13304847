"""Request and response bodies as msgspec Structs. They stop at the HTTP edge: handlers turn
them into the domain's commands and back, so the domain never sees a Struct."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

import msgspec

from neodyme_domain.federation.model import LinkedIdentity, ProviderInfo
from neodyme_domain.messages import SecurityEvent
from neodyme_domain.model import (
    MAX_EMAIL_LENGTH,
    MAX_FULL_NAME_LENGTH,
    MAX_LOCAL_PART_LENGTH,
    User,
)
from neodyme_domain.pagination import Page
from neodyme_domain.passkeys.model import MAX_PASSKEY_NAME, Passkey
from neodyme_domain.passwords import MAX_PASSWORD_LENGTH
from neodyme_domain.sessions.list_sessions import SessionView
from neodyme_domain.tokens.model import AccessClaims, TokenPair

# What the domain accepts, as patterns, so that the OpenAPI document says it and a client
# (or the API fuzzer) can tell a valid request from an invalid one. msgspec enforces them
# too: whatever does not match is a 422 before the domain sees it. Each accepts no more
# than the domain does (tests/unit/http/test_field_patterns.py checks both, character by
# character). Written in the subset of regex syntax that Python, ECMA-262 and Rust agree
# on; characters outside the BMP are written as themselves (no common escape exists).

_SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
"""What ``str.strip()`` removes (``str.isspace``), as the inside of a character class."""
_CONTROL = (
    "\\x00-\\x1f\\x7f-\\x9f\\xad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2"
    "\\u180e\\u200b\\u200e\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff"
    "\\ufff9-\\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
"""The characters a name must not contain (Unicode categories Cc, Cf, Zl and Zp, except
the zero-width joiners U+200C and U+200D), up to Unicode 16, inside a character class."""

FULL_NAME_PATTERN = (
    f"^[{_SPACE}]*[^{_CONTROL}{_SPACE}](?:[^{_CONTROL}]*[^{_CONTROL}{_SPACE}])?[{_SPACE}]*$"
)
"""Something other than spaces, and no control character once the ends are trimmed."""

_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = (
    f"^[{_SPACE}]*(?![^@]{{{MAX_LOCAL_PART_LENGTH + 1}}})"  # the local part is 1..64 long
    f"{_ATOM}(?:\\.{_ATOM})*@(?:{_LABEL}\\.)+(?![0-9]+[{_SPACE}]*$){_LABEL}[{_SPACE}]*$"
)
"""``local@domain``: the local part of dot-separated atoms, at least two domain labels and
a top-level one that is not all digits; spaces around are trimmed."""

EmailField = Annotated[
    str,
    msgspec.Meta(max_length=MAX_EMAIL_LENGTH, pattern=EMAIL_PATTERN, examples=["ada@example.com"]),
]
LoginEmailField = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EMAIL_LENGTH + 64)]
"""Login takes any string: an address no account can have is answered like an unknown one."""
NameField = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_FULL_NAME_LENGTH, pattern=FULL_NAME_PATTERN, examples=["Ada Lovelace"]
    ),
]
PasskeyNameField = Annotated[
    str,
    msgspec.Meta(max_length=MAX_PASSKEY_NAME, pattern=FULL_NAME_PATTERN, examples=["Laptop"]),
]
"""A name a user gives a passkey: the rules of a full name, shorter."""
PasswordField = Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_LENGTH)]
"""A password: a new one is also at least as long as the active policy wants, which the
OpenAPI document states (``Body.new_passwords``) but msgspec does not check: a shorter one
is the domain's 400 WEAK_PASSWORD, naming every rule it fails, not a bare 422."""
TokenField = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


class Body(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Unknown fields are refused (422): no silent mass assignment."""

    new_passwords: ClassVar[tuple[str, ...]] = ()
    """The fields that set a password: the OpenAPI document gives them the active
    policy's shortest length as ``minLength`` (http/openapi.py)."""


class RegisterBody(Body, forbid_unknown_fields=True, frozen=True):
    new_passwords = ("password",)

    email: EmailField
    full_name: NameField
    password: PasswordField


class LoginBody(Body, forbid_unknown_fields=True, frozen=True):
    email: LoginEmailField
    password: PasswordField


class RefreshBody(Body, forbid_unknown_fields=True, frozen=True):
    refresh_token: TokenField


class LogoutBody(Body, forbid_unknown_fields=True, frozen=True):
    refresh_token: TokenField


class ChangePasswordBody(Body, forbid_unknown_fields=True, frozen=True):
    new_passwords = ("new_password",)

    current_password: PasswordField
    new_password: PasswordField


class ForgotPasswordBody(Body, forbid_unknown_fields=True, frozen=True):
    email: EmailField


class ResetPasswordBody(Body, forbid_unknown_fields=True, frozen=True):
    new_passwords = ("new_password",)

    token: TokenField
    new_password: PasswordField


class VerifyBody(Body, forbid_unknown_fields=True, frozen=True):
    """An e-mailed link's token: e-mail verification, e-mail change confirmation."""

    token: TokenField


class EmailChangeBody(Body, forbid_unknown_fields=True, frozen=True):
    new_email: EmailField
    password: PasswordField


class ProfileBody(Body, forbid_unknown_fields=True, frozen=True):
    """Only the name: id, e-mail, flags, password and timestamps are refused (422), not
    silently ignored, so a client learns at once that it cannot set them here."""

    full_name: NameField | None = None


class DeleteAccountBody(Body, forbid_unknown_fields=True, frozen=True):
    password: PasswordField


class PasswordBody(Body, forbid_unknown_fields=True, frozen=True):
    """The password again, for a change to the second factor."""

    password: PasswordField


CodeField = Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["123456"])]
"""An authenticator's code (six digits) or a recovery code (``abcd-efgh-ijkl``)."""


class CodeBody(Body, forbid_unknown_fields=True, frozen=True):
    code: CodeField


class MfaVerifyBody(Body, forbid_unknown_fields=True, frozen=True):
    """The ``mfa_token`` of MFA_REQUIRED and exactly one of ``code`` (the authenticator's)
    or ``recovery_code``."""

    mfa_token: TokenField
    code: CodeField | None = None
    recovery_code: CodeField | None = None


class TotpDisableBody(Body, forbid_unknown_fields=True, frozen=True):
    password: PasswordField
    code: CodeField
    """The authenticator's code, or a recovery code."""


class TotpSetupOut(msgspec.Struct, frozen=True):
    """Shown once: put it into an authenticator app (scan ``qr_svg`` or type ``secret``),
    then confirm with a code."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class RecoveryCodesOut(msgspec.Struct, frozen=True):
    """Shown once: each code signs in once when the authenticator is not at hand."""

    recovery_codes: list[str]


class AccountStatusBody(Body, forbid_unknown_fields=True, frozen=True):
    # Literal, not bool: Litestar converts bodies in msgspec's lax mode, where a bool field
    # takes "false", "0" and 0 as False (an admin's mistyped request deactivated accounts).
    # Literal booleans take only true and false (tests/e2e/test_input_abuse.py).
    is_active: Literal[True, False] | None = None


class UserOut(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    full_name: str
    is_active: bool
    is_verified: bool
    is_superuser: bool
    created_at: datetime
    updated_at: datetime
    mfa_enabled: bool

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
            mfa_enabled=user.mfa_enabled,
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


class SessionInfo(msgspec.Struct, frozen=True):
    id: str
    created_at: datetime
    last_used_at: datetime
    """The last sign-in or refresh of the session (not every request)."""
    user_agent: str | None
    client_ip: str | None
    current: bool
    """The session of the access token that asked."""

    @classmethod
    def of(cls, view: SessionView) -> SessionInfo:
        session = view.session
        return cls(
            id=session.id,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            user_agent=session.user_agent,
            client_ip=session.client_ip,
            current=view.current,
        )


class SessionList(msgspec.Struct, frozen=True):
    items: list[SessionInfo]

    @classmethod
    def of(cls, views: list[SessionView]) -> SessionList:
        return cls([SessionInfo.of(view) for view in views])


WebAuthnJson = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description="A WebAuthn Level 3 JSON object: what PublicKeyCredential.toJSON() gives"
        " (RegistrationResponseJSON / AuthenticationResponseJSON), or the options that"
        " PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON take."
    ),
]


class PasskeyRegisterBody(Body, forbid_unknown_fields=True, frozen=True):
    """The authenticator's answer to ``/register/options``, and a name for the passkey
    ("Passkey N" when absent)."""

    credential: WebAuthnJson
    name: PasskeyNameField | None = None


class PasskeySignInOptionsBody(Body, forbid_unknown_fields=True, frozen=True):
    """Empty for a passwordless sign-in; the ``mfa_token`` of MFA_REQUIRED for a passkey
    as a login's second factor."""

    mfa_token: TokenField | None = None


class PasskeySignInBody(Body, forbid_unknown_fields=True, frozen=True):
    credential: WebAuthnJson


class PasskeyRenameBody(Body, forbid_unknown_fields=True, frozen=True):
    name: PasskeyNameField


class PasskeyOut(msgspec.Struct, frozen=True):
    """A passkey as its owner sees it; ``backed_up``: synced to other devices."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backed_up: bool

    @classmethod
    def of(cls, passkey: Passkey) -> PasskeyOut:
        return cls(
            passkey.id, passkey.name, passkey.created_at, passkey.last_used_at, passkey.backed_up
        )


class PasskeyList(msgspec.Struct, frozen=True):
    items: list[PasskeyOut]

    @classmethod
    def of(cls, passkeys: list[Passkey]) -> PasskeyList:
        return cls([PasskeyOut.of(passkey) for passkey in passkeys])


class Accepted(msgspec.Struct, frozen=True):
    """202: the request was taken; what follows happens by e-mail."""

    status: str = "accepted"


ACCEPTED = Accepted()
"""The one body of every 202."""


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


class IntrospectionForm(msgspec.Struct):
    """RFC 7662 section 2.1: ``token``, and a ``token_type_hint`` neodyme does not need
    (only access tokens can be live)."""

    token: str = ""
    token_type_hint: str = ""


class IntrospectionOut(msgspec.Struct, frozen=True, omit_defaults=True):
    """RFC 7662 section 2.2: ``active`` alone for a dead token, else the token's claims
    (``scope``: the permissions, space-separated)."""

    active: bool
    sub: str | None = None
    exp: int | None = None
    iat: int | None = None
    sid: str | None = None
    scope: str | None = None
    jti: str | None = None
    iss: str | None = None
    aud: str | None = None
    token_type: str | None = None

    @classmethod
    def of(cls, claims: AccessClaims | None, *, issuer: str, audience: str) -> IntrospectionOut:
        if claims is None:
            return cls(active=False)
        return cls(
            active=True,
            sub=str(claims.user_id),
            exp=int(claims.expires_at.timestamp()),
            iat=int(claims.issued_at.timestamp()),
            sid=claims.session_id,
            scope=" ".join(claims.permissions),
            jti=claims.token_id,
            iss=issuer,
            aud=audience,
            token_type="Bearer",
        )


ProviderNameField = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]
RedirectUriField = Annotated[
    str, msgspec.Meta(min_length=1, max_length=2048, examples=["https://app.example/callback"])
]


class ProviderOut(msgspec.Struct, frozen=True):
    """A provider to sign in with: ``name`` in the URLs, ``title`` on the button."""

    name: str
    title: str


class ProviderList(msgspec.Struct, frozen=True):
    items: list[ProviderOut]

    @classmethod
    def of(cls, providers: Sequence[ProviderInfo]) -> ProviderList:
        return cls([ProviderOut(p.name, p.title) for p in providers])


class AuthorizeBody(Body, forbid_unknown_fields=True, frozen=True):
    """The client's redirect URI: one of ``NEODYME_OIDC_REDIRECT_URIS``."""

    redirect_uri: RedirectUriField


class AuthorizationOut(msgspec.Struct, frozen=True):
    """Send the user to ``authorization_url``; the provider sends them back to the
    redirect URI with ``code`` and ``state``, both for ``/callback``."""

    authorization_url: str
    state: str
    expires_in: int


class CallbackBody(Body, forbid_unknown_fields=True, frozen=True):
    code: TokenField
    state: TokenField


class LinkBody(Body, forbid_unknown_fields=True, frozen=True):
    """The ``link_token`` of LINK_REQUIRED and the account's password."""

    link_token: TokenField
    password: PasswordField


class IdentityOut(msgspec.Struct, frozen=True):
    """A provider linked to your account, with the address it gave."""

    id: str
    provider: str
    email: str
    created_at: datetime

    @classmethod
    def of(cls, identity: LinkedIdentity) -> IdentityOut:
        return cls(str(identity.id), identity.provider, identity.email, identity.created_at)


class IdentityList(msgspec.Struct, frozen=True):
    items: list[IdentityOut]

    @classmethod
    def of(cls, identities: Sequence[LinkedIdentity]) -> IdentityList:
        return cls([IdentityOut.of(identity) for identity in identities])
