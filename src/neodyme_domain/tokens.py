"""What the domain knows about tokens: their claims, the pair a client receives, and how a
refresh token is remembered (by a digest, never in clear)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from neodyme_domain.model import UserId


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UserId
    permissions: tuple[str, ...]
    token_id: str
    expires_at: datetime


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


def digest(token: str) -> str:
    """SHA-256 of a high-entropy token: a leaked table yields no usable token, and no slow
    hash is needed because the input is not guessable."""
    return hashlib.sha256(token.encode()).hexdigest()
