"""The records of the second factor and the limits RFC 6238 and api.md set on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from neodyme_domain.model import UserId

MFA_TOKEN_TTL = timedelta(minutes=5)
"""How long a login may wait between its right password and its code (api.md)."""

MAX_CODE_FAILURES = 5
"""Wrong codes an ``mfa_token`` survives; the fifth kills it (api.md)."""

RECOVERY_CODE_COUNT = 10

TOTP_DIGITS = 6
"""The length of an authenticator app's code (RFC 6238 with the apps' defaults)."""


class MfaMethod(StrEnum):
    """One name per method in every layer: enum value, module, table, route."""

    TOTP = "totp"
    RECOVERY_CODES = "recovery_codes"
    PASSKEY = "passkey"
    """Listed in MFA_REQUIRED's ``methods`` only for a user who has a passkey."""


@dataclass(frozen=True, slots=True)
class TotpAuthenticator:
    """A user's TOTP secret, sealed (``SecretBox``): pending until a code confirms it.

    ``last_used_step`` is the RFC 6238 time step of the last code accepted: a code is
    accepted only for a later step, so no code works twice (RFC 6238 section 5.2).
    """

    user_id: UserId
    sealed_secret: str
    created_at: datetime
    confirmed_at: datetime | None = None
    last_used_step: int | None = None

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """A login that proved its password and waits for a second factor; the client holds
    the token (``mfa_token``), the store its digest. Good once, for ``MFA_TOKEN_TTL``,
    while ``failures`` stays under ``MAX_CODE_FAILURES`` and while the user's
    ``token_version`` is still ``user_stamp``."""

    token_digest: str
    user_id: UserId
    user_stamp: int
    created_at: datetime
    expires_at: datetime
    failures: int = 0
    used_at: datetime | None = None
