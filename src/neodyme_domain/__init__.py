"""neodyme's core: accounts, credentials and sessions, with no framework in sight.

Standard library only (an import-linter contract checks it). Use cases live in
``neodyme_domain.use_cases``; the outside world is reached through ``neodyme_domain.ports``.
"""

from neodyme_domain.errors import (
    AccountInactive,
    DomainError,
    EmailAlreadyExists,
    Forbidden,
    InvalidCode,
    InvalidCredentials,
    InvalidLink,
    InvalidToken,
    MfaAlreadyEnabled,
    MfaNotEnabled,
    MfaRequired,
    MfaSetupRequired,
    RetryLater,
    ServiceUnavailable,
    SessionNotFound,
    TokenReused,
    TooManyAttempts,
    UserNotFound,
    ValidationFailed,
    WeakPassword,
)
from neodyme_domain.messages import (
    EmailMessage,
    OutboxBacklog,
    OutboxEntry,
    RequestOrigin,
    SecurityEvent,
)
from neodyme_domain.model import Email, User, UserId
from neodyme_domain.passwords import BOOK_POLICY, PasswordPolicy
from neodyme_domain.tokens import AccessClaims, RefreshClaims, RefreshTokenRecord, TokenPair

__all__ = [
    "BOOK_POLICY",
    "AccessClaims",
    "AccountInactive",
    "DomainError",
    "Email",
    "EmailAlreadyExists",
    "EmailMessage",
    "Forbidden",
    "InvalidCode",
    "InvalidCredentials",
    "InvalidLink",
    "InvalidToken",
    "MfaAlreadyEnabled",
    "MfaNotEnabled",
    "MfaRequired",
    "MfaSetupRequired",
    "OutboxBacklog",
    "OutboxEntry",
    "PasswordPolicy",
    "RefreshClaims",
    "RefreshTokenRecord",
    "RequestOrigin",
    "RetryLater",
    "SecurityEvent",
    "ServiceUnavailable",
    "SessionNotFound",
    "TokenPair",
    "TokenReused",
    "TooManyAttempts",
    "User",
    "UserId",
    "UserNotFound",
    "ValidationFailed",
    "WeakPassword",
]
