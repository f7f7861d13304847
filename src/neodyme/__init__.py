"""neodyme inside another Python program: the whole public face, and nothing else.

    import neodyme

    settings = neodyme.Settings(database_url="memory://", secret_key="...")
    async with neodyme.open(settings) as accounts:
        registered = await accounts.register(email=..., full_name=..., password=...)

``open`` yields an ``Accounts``, one method per use case. Failures are the errors below,
each with a stable ``code`` (the same as the HTTP API's), all subclasses of ``DomainError``.
Everything else (``neodyme_domain``, ``neodyme_adapters``, ``neodyme_app``) is the
implementation: import from here.
"""

from neodyme_app.accounts import Accounts
from neodyme_app.accounts import open_accounts as open
from neodyme_app.config import Settings
from neodyme_domain.errors import (
    AccountInactive,
    DomainError,
    EmailAlreadyExists,
    FederationRefused,
    Forbidden,
    IdentityNotFound,
    IdentityTaken,
    InvalidChallenge,
    InvalidClient,
    InvalidCode,
    InvalidCredentials,
    InvalidLink,
    InvalidToken,
    LastSignInMethod,
    LinkRequired,
    MfaAlreadyEnabled,
    MfaNotEnabled,
    MfaRequired,
    MfaSetupRequired,
    PasskeyAlreadyRegistered,
    PasskeyInvalid,
    PasskeyNotFound,
    PasskeyRefused,
    ProviderEmailUnverified,
    ProviderNotFound,
    ProviderUnavailable,
    RetryLater,
    ServiceUnavailable,
    SessionNotFound,
    TokenReused,
    TooManyAttempts,
    UserNotFound,
    ValidationFailed,
    WeakPassword,
)
from neodyme_domain.messages import OutboxBacklog, RequestOrigin, SecurityEvent
from neodyme_domain.model import User, UserId
from neodyme_domain.pagination import Page
from neodyme_domain.passkeys.model import Passkey
from neodyme_domain.tokens.model import TokenPair
from neodyme_domain.use_cases import Authenticated, Delivery, Registered

__all__ = [
    "AccountInactive",
    "Accounts",
    "Authenticated",
    "Delivery",
    "DomainError",
    "EmailAlreadyExists",
    "FederationRefused",
    "Forbidden",
    "IdentityNotFound",
    "IdentityTaken",
    "InvalidChallenge",
    "InvalidClient",
    "InvalidCode",
    "InvalidCredentials",
    "InvalidLink",
    "InvalidToken",
    "LastSignInMethod",
    "LinkRequired",
    "MfaAlreadyEnabled",
    "MfaNotEnabled",
    "MfaRequired",
    "MfaSetupRequired",
    "OutboxBacklog",
    "Page",
    "Passkey",
    "PasskeyAlreadyRegistered",
    "PasskeyInvalid",
    "PasskeyNotFound",
    "PasskeyRefused",
    "ProviderEmailUnverified",
    "ProviderNotFound",
    "ProviderUnavailable",
    "Registered",
    "RequestOrigin",
    "RetryLater",
    "SecurityEvent",
    "ServiceUnavailable",
    "SessionNotFound",
    "Settings",
    "TokenPair",
    "TokenReused",
    "TooManyAttempts",
    "User",
    "UserId",
    "UserNotFound",
    "ValidationFailed",
    "WeakPassword",
    "open",
]
