"""Issuing a token pair, shared by registration, login, the second factor and refresh.

Every refresh token is remembered by its digest in the caller's unit of work, so a pair is
only valid once the transaction that issued it commits. A pair without a family starts a
session (``neodyme_domain.sessions.model.Session``); a rotation moves its last use.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from neodyme_domain.messages import NO_ORIGIN, RequestOrigin
from neodyme_domain.model import User
from neodyme_domain.notices import security_notice
from neodyme_domain.ports import TokenService, UnitOfWork
from neodyme_domain.sessions.model import Session
from neodyme_domain.tokens.model import RefreshTokenRecord, TokenPair, digest


def new_family_id() -> str:
    return secrets.token_urlsafe(16)


async def issue_pair(
    uow: UnitOfWork,
    tokens: TokenService,
    user: User,
    *,
    now: datetime,
    session: Session | None = None,
    origin: RequestOrigin = NO_ORIGIN,
    new_device_window: timedelta | None = None,
) -> TokenPair:
    """A new pair. Without ``session``, a new sign-in: a session with a fresh absolute
    expiry starts, from ``origin``; with ``new_device_window``, a sign-in from a device
    the account has not used within that window queues a ``new_device_sign_in`` notice.

    Rotation passes the session on, so refreshing never extends a sign-in's life.
    """
    if session is None:
        session = await _start_session(uow, tokens, user, now, origin, new_device_window)
    else:
        await uow.sessions.touch(session.id, now)
    refresh = tokens.issue_refresh(
        user.id, session.id, secrets.token_urlsafe(16), now, session.expires_at
    )
    await uow.refresh_tokens.add(
        RefreshTokenRecord(
            token_digest=digest(refresh),
            user_id=user.id,
            family_id=session.id,
            issued_at=now,
            expires_at=session.expires_at,
        )
    )
    return TokenPair(
        access_token=tokens.issue_access(user, now, session.id),
        refresh_token=refresh,
        expires_in=int(tokens.access_ttl.total_seconds()),
    )


async def _start_session(
    uow: UnitOfWork,
    tokens: TokenService,
    user: User,
    now: datetime,
    origin: RequestOrigin,
    new_device_window: timedelta | None,
) -> Session:
    if new_device_window is not None and await _is_new_device(
        uow, user, origin, now - new_device_window
    ):
        await uow.outbox.add(security_notice("new_device_sign_in", user, now, origin), now)
    session = Session(
        id=new_family_id(),
        user_id=user.id,
        created_at=now,
        last_used_at=now,
        expires_at=now + tokens.refresh_ttl,
        user_agent=origin.user_agent,
        client_ip=origin.client_ip,
    )
    await uow.sessions.add(session)
    return session


async def _is_new_device(
    uow: UnitOfWork, user: User, origin: RequestOrigin, since: datetime
) -> bool:
    """An account's first sign-in ever (registration's) is from no "new" device: only
    accounts with a session on record can be signed in from an unknown one. Most
    sign-ins come from a device seen lately: asked first, that one read settles them."""
    seen = await uow.sessions.seen_device(user.id, origin.user_agent, origin.client_ip, since)
    return not seen and await uow.sessions.has_any(user.id)
