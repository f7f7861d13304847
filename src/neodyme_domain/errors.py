"""Domain errors: each names one situation and carries a stable code from api.md.

The HTTP layer maps ``code`` to a status in a single table, so adding an error here
without mapping it is caught by a unit test rather than by a user seeing a 500.
``message`` is fit for an end user; ``context`` is for logs only and never reaches a
client; ``details`` is structured data a client may act on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error the use cases raise on purpose."""

    code: ClassVar[str] = "DOMAIN_ERROR"
    default_message: ClassVar[str] = "The request could not be completed"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] = dict(details or {})
        self.context: dict[str, Any] = dict(context or {})
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Input that no rule of the domain accepts (bad e-mail, empty name, huge password)."""

    code = "VALIDATION_ERROR"
    default_message = "The request is not valid"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(
            f"{field}: {problem}",
            details={"fields": [{"field": field, "message": problem}]},
        )
        self.field = field


class WeakPassword(DomainError):
    code = "WEAK_PASSWORD"

    def __init__(self, unmet: Sequence[str]) -> None:
        self.unmet = tuple(unmet)
        super().__init__(
            "Password requirements not met: " + ", ".join(self.unmet),
            details={"unmet": list(self.unmet)},
        )


class EmailAlreadyExists(DomainError):
    code = "EMAIL_ALREADY_EXISTS"

    def __init__(self, email: str, *, context: Mapping[str, Any] | None = None) -> None:
        super().__init__(
            f"A user with email {email} already exists",
            context={"email": email, **(context or {})},
        )


class InvalidCredentials(DomainError):
    """Same message for an unknown e-mail and a wrong password: no account enumeration."""

    code = "INVALID_CREDENTIALS"
    default_message = "Invalid email or password"


class AccountInactive(DomainError):
    code = "ACCOUNT_INACTIVE"
    default_message = "This account is inactive"


class InvalidClient(DomainError):
    """A resource server's id or secret (introspection) is wrong: one message for both."""

    code = "INVALID_CLIENT"
    default_message = "Unknown client or wrong secret"


class InvalidToken(DomainError):
    code = "INVALID_TOKEN"
    default_message = "The token is invalid or expired"


class InvalidLink(InvalidToken):
    """A one-time e-mailed token (reset, verification) that is unknown, used, expired or
    outlived by a password change. Same code as InvalidToken; answered with 400, because
    the request carries the token in its body, not as credentials."""

    default_message = "The link is invalid, expired or already used"


class TokenReused(DomainError):
    code = "TOKEN_REUSED"
    default_message = "This refresh token was already used; all sessions of its family are revoked"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    default_message = "You are not allowed to do this"


class UserNotFound(DomainError):
    code = "USER_NOT_FOUND"
    default_message = "User not found"


class RetryLater(DomainError):
    """Base of errors that tell the client when to try again (HTTP ``Retry-After``); it
    has no code of its own."""

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int = 1,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details={"retry_after": retry_after}, context=context)
        self.retry_after = retry_after


class TooManyAttempts(RetryLater):
    code = "TOO_MANY_ATTEMPTS"
    default_message = "Too many attempts; try again later"


class ServiceUnavailable(RetryLater):
    """A dependency (the database) cannot be reached, or the server is saturated; nothing
    was half-written, and retrying later is safe."""

    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable, please retry"


class MfaRequired(DomainError):
    """The password was right and the account has a second factor: the login continues
    with ``details.mfa_token`` at ``POST /auth/mfa/verify``. Raised only after a right
    password, so it reveals nothing to someone who does not know it."""

    code = "MFA_REQUIRED"
    default_message = "A second factor is required to complete the login"

    def __init__(
        self,
        *,
        mfa_token: str,
        methods: Sequence[str],
        expires_in: int,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            details={"mfa_token": mfa_token, "methods": list(methods), "expires_in": expires_in},
            context=context,
        )
        self.mfa_token = mfa_token


class InvalidCode(DomainError):
    """A TOTP or recovery code that is wrong, already used, or outside the drift window."""

    code = "INVALID_CODE"
    default_message = "The code is invalid or was already used"


class MfaAlreadyEnabled(DomainError):
    code = "MFA_ALREADY_ENABLED"
    default_message = "Two-factor sign-in is already on for this account"


class MfaNotEnabled(DomainError):
    code = "MFA_NOT_ENABLED"
    default_message = "Two-factor sign-in is not on for this account"


class MfaSetupRequired(DomainError):
    """A confirmation without a pending setup (none started, or it was replaced)."""

    code = "MFA_SETUP_REQUIRED"
    default_message = "Start the two-factor setup before confirming it"


class SessionNotFound(DomainError):
    """Unknown, ended, or another user's session: one answer for all three."""

    code = "SESSION_NOT_FOUND"
    default_message = "Session not found"


class PasskeyInvalid(DomainError):
    """A registration answer that does not verify: wrong origin or relying party, a
    signature or attestation that does not check out, no user verification."""

    code = "PASSKEY_INVALID"
    default_message = "The passkey could not be verified"


class PasskeyRefused(DomainError):
    """A sign-in answer that does not verify, names an unknown credential, or reports a
    signature counter that went backwards: one answer for all of them."""

    code = "PASSKEY_REFUSED"
    default_message = "The passkey was not accepted"


class InvalidChallenge(DomainError):
    """An answer to a challenge that is unknown, expired, already answered, or issued for
    the other ceremony: ask for new options."""

    code = "INVALID_CHALLENGE"
    default_message = "The challenge is invalid, expired or already used; start again"


class PasskeyAlreadyRegistered(DomainError):
    code = "PASSKEY_ALREADY_REGISTERED"
    default_message = "This passkey is already registered"


class PasskeyNotFound(DomainError):
    """Unknown, or another user's passkey: one answer for both."""

    code = "PASSKEY_NOT_FOUND"
    default_message = "Passkey not found"


class ProviderNotFound(DomainError):
    """A provider name the settings do not configure."""

    code = "PROVIDER_NOT_FOUND"
    default_message = "No such sign-in provider"


class ProviderUnavailable(RetryLater):
    """The provider did not answer, or answered with an error page instead of its
    document, keys or tokens: nothing was created, and starting again later is safe."""

    code = "PROVIDER_UNAVAILABLE"
    default_message = "The sign-in provider cannot be reached; try again later"


class FederationRefused(DomainError):
    """The provider's answer does not prove anything: an unknown, spent or expired
    ``state``, a code the provider refuses (replayed, expired), an ID token whose
    signature, issuer, audience, expiry or ``nonce`` does not check out. One answer for
    all (the reason goes to the log): start the sign-in again."""

    code = "FEDERATION_REFUSED"
    default_message = "The sign-in with the provider could not be verified; start again"


class ProviderEmailUnverified(DomainError):
    """A first sign-in whose provider does not vouch for the address (no ``email``, or
    ``email_verified`` false): no account is made from an address nobody proved."""

    code = "PROVIDER_EMAIL_UNVERIFIED"
    default_message = (
        "The provider has not verified your e-mail address; verify it there, or register"
    )


class LinkRequired(DomainError):
    """A first sign-in with an address an account already holds: the identity is linked
    only once the account's owner proves the account is theirs, with its password, at
    ``POST /auth/oidc/link`` with ``details.link_token``. Never linked silently: a
    provider that let anyone claim the address would otherwise hand over the account."""

    code = "LINK_REQUIRED"
    default_message = "An account has this address: confirm it is yours to link the provider"

    def __init__(
        self,
        *,
        link_token: str,
        provider: str,
        email: str,
        expires_in: int,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            details={
                "link_token": link_token,
                "provider": provider,
                "email": email,
                "expires_in": expires_in,
            },
            context=context,
        )
        self.link_token = link_token


class IdentityTaken(DomainError):
    """The provider's identity is already linked to another account."""

    code = "IDENTITY_TAKEN"
    default_message = "This provider account is already linked to another account"


class IdentityNotFound(DomainError):
    """Unknown, or another user's linked identity: one answer for both."""

    code = "IDENTITY_NOT_FOUND"
    default_message = "Linked identity not found"


class LastSignInMethod(DomainError):
    """Unlinking it would leave the account with no way to sign in (no password, passkey
    or other provider)."""

    code = "LAST_SIGN_IN_METHOD"
    default_message = (
        "This is the account's last way to sign in: set a password or add a passkey first"
    )


class SecretUnreadable(Exception):
    """A sealed secret that no configured key opens: the encryption keys were changed
    without keeping the old one (an operator's mistake, answered as a server error)."""
