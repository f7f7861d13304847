"""What the domain knows about tokens: their claims, the pair a client receives, and how a
refresh token is remembered (by a digest, never in clear)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from neodyme_domain.model import UserId


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UserId
    permissions: tuple[str, ...]
    token_id: str
    expires_at: datetime
    issued_at: datetime
    token_version: int
    """The user's ``token_version`` at issue: a token whose version is behind is revoked."""
    session_id: str
    """The ``sid`` claim: the session (refresh family) the token belongs to; ending the
    session revokes it. Required: a token without one (issued before sessions existed,
    within the last access-token lifetime of an upgrade) is refused, and its client
    refreshes."""


@dataclass(frozen=True, slots=True)
class RefreshClaims:
    user_id: UserId
    family_id: str
    token_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True, slots=True)
class RefreshTokenRecord:
    """One issued refresh token. A family is one login's chain of rotations: it shares an
    absolute expiry, and presenting any used member again revokes every member."""

    token_digest: str
    user_id: UserId
    family_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class OneTimePurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"
    EMAIL_CHANGE = "email_change"


@dataclass(frozen=True, slots=True)
class OneTimeTokenRecord:
    """A link token sent by e-mail. Valid while unused, unexpired, and while the user's
    ``token_version`` still equals ``user_stamp``: a password change, reset or deactivation
    kills every link issued before it."""

    token_digest: str
    user_id: UserId
    purpose: OneTimePurpose
    user_stamp: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    new_email: str | None = None
    """For ``EMAIL_CHANGE`` only: the address the link, once followed, switches to."""


_ENTROPY = 32
"""Bytes of a one-time token: 256 random bits cannot be guessed within its lifetime."""


def new_one_time_token() -> str:
    """URL-safe random bytes: not a JWT, so it means nothing without the stored digest."""
    # token_urlsafe(None) would draw secrets.DEFAULT_ENTROPY bytes: 32 as well.
    return secrets.token_urlsafe(_ENTROPY)  # pragma: no mutate (equivalent: None is 32 bytes too)


def digest(token: str) -> str:
    """SHA-256 of a high-entropy token: a leaked table yields no usable token, and no slow
    hash is needed because the input is not guessable."""
    return hashlib.sha256(token.encode()).hexdigest()
