"""Issuing a token pair, shared by registration, login and refresh.

Every refresh token is remembered by its digest in the caller's unit of work, so a pair is
only valid once the transaction that issued it commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from neodyme_domain.model import User
from neodyme_domain.ports import TokenService, UnitOfWork
from neodyme_domain.tokens import RefreshTokenRecord, TokenPair, digest


def new_family_id() -> str:
    return secrets.token_urlsafe(16)


async def issue_pair(
    uow: UnitOfWork,
    tokens: TokenService,
    user: User,
    *,
    now: datetime,
    family_id: str | None = None,
    family_expires_at: datetime | None = None,
) -> TokenPair:
    """A new pair; without a family, a new login (family) starts with a fresh absolute expiry.

    Rotation passes the family and its expiry on, so refreshing never extends a login's life.
    """
    family = family_id or new_family_id()
    expires_at = family_expires_at or now + tokens.refresh_ttl
    refresh = tokens.issue_refresh(user.id, family, secrets.token_urlsafe(16), now, expires_at)
    await uow.refresh_tokens.add(
        RefreshTokenRecord(
            token_digest=digest(refresh),
            user_id=user.id,
            family_id=family,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    return TokenPair(
        access_token=tokens.issue_access(user, now),
        refresh_token=refresh,
        expires_in=int(tokens.access_ttl.total_seconds()),
    )
