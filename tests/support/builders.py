"""Domain objects for tests, with defaults that say nothing and overrides that say much."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from neodyme_domain.messages import EmailMessage, SecurityEvent
from neodyme_domain.model import Email, User, UserId
from neodyme_domain.tokens import (
    OneTimePurpose,
    OneTimeTokenRecord,
    RefreshTokenRecord,
    digest,
    new_one_time_token,
)

# Not a real hash: repositories store whatever the hasher produced, opaque.
FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"


ORDER_EDGE_IDS: tuple[uuid.UUID, ...] = tuple(
    uuid.UUID(text)
    for text in (
        "00000000-0000-0000-0000-000000000000",
        "00000000-0000-0000-0000-0000000000ff",
        "00000000-0000-0000-0000-000000000100",
        "7fffffff-ffff-4fff-bfff-ffffffffffff",
        "80000000-0000-4000-8000-000000000000",
        "9fffffff-ffff-4fff-bfff-ffffffffffff",
        "a0000000-0000-4000-8000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    )
)
"""Ids whose order is easy to get wrong: a digit against a letter in the first hex place
(text order of hex must match the integer order), the sign bit of the first byte and of
the 128-bit integer (bytewise must be unsigned), a carry into the next byte, the extremes."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def a_user(
    email: str = "ada@example.com",
    *,
    full_name: str = "Ada Lovelace",
    now: datetime | None = None,
    is_superuser: bool = False,
) -> User:
    return User.register(
        email=Email.parse(email),
        full_name=full_name,
        hashed_password=FAKE_HASH,
        now=now or utc_now(),
        is_superuser=is_superuser,
    )


def a_refresh_token(
    user_id: UserId,
    *,
    family_id: str | None = None,
    issued_at: datetime | None = None,
    ttl: timedelta = timedelta(days=14),
) -> RefreshTokenRecord:
    issued = issued_at or utc_now()
    return RefreshTokenRecord(
        token_digest=digest(secrets.token_urlsafe(32)),
        user_id=user_id,
        family_id=family_id or secrets.token_hex(16),
        issued_at=issued,
        expires_at=issued + ttl,
    )


def a_one_time_token(
    user_id: UserId,
    *,
    purpose: OneTimePurpose = OneTimePurpose.PASSWORD_RESET,
    user_stamp: int = 0,
    created_at: datetime | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> OneTimeTokenRecord:
    created = created_at or utc_now()
    return OneTimeTokenRecord(
        token_digest=digest(new_one_time_token()),
        user_id=user_id,
        purpose=purpose,
        user_stamp=user_stamp,
        created_at=created,
        expires_at=created + ttl,
    )


def a_message(to: str = "ada@example.com", *, kind: str = "welcome", **data: str) -> EmailMessage:
    return EmailMessage(
        kind=kind,
        to=to,
        subject=f"{kind} for {to}",
        body=f"Hello {to},\n\nthis is a {kind} message.\n",
        data=dict(data),
    )


def an_event(type: str = "user_login", **fields: Any) -> SecurityEvent:
    fields.setdefault("occurred_at", utc_now())
    return SecurityEvent(type=type, **fields)
