"""One-time e-mail links (password reset, e-mail verification and change): issue, redeem.

The token travels only in the e-mail; the database keeps its digest. A link is good once,
until it expires, and only while the user's ``token_version`` is what it was at issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from neodyme_domain.errors import InvalidLink
from neodyme_domain.model import User
from neodyme_domain.ports import UnitOfWork
from neodyme_domain.tokens.model import (
    OneTimePurpose,
    OneTimeTokenRecord,
    digest,
    new_one_time_token,
)

PATHS = {
    OneTimePurpose.PASSWORD_RESET: "/reset-password",
    OneTimePurpose.EMAIL_VERIFICATION: "/verify-email",
    OneTimePurpose.EMAIL_CHANGE: "/confirm-email",
}


@dataclass(frozen=True, slots=True)
class LinkSettings:
    public_url: str
    """Where the client application that opens the links lives, e.g. https://app.example."""
    ttl: timedelta


async def issue_link(
    uow: UnitOfWork,
    user: User,
    purpose: OneTimePurpose,
    settings: LinkSettings,
    now: datetime,
    *,
    new_email: str | None = None,
) -> str:
    """Store a new token for ``user`` and return the URL to e-mail; an e-mail change link
    keeps the address it switches to (``new_email``)."""
    token = new_one_time_token()
    await uow.one_time_tokens.add(
        OneTimeTokenRecord(
            token_digest=digest(token),
            user_id=user.id,
            purpose=purpose,
            user_stamp=user.token_version,
            created_at=now,
            expires_at=now + settings.ttl,
            new_email=new_email,
        )
    )
    return f"{settings.public_url.rstrip('/')}{PATHS[purpose]}?token={quote(token)}"


async def find_link_user(
    uow: UnitOfWork, token: str, purpose: OneTimePurpose, now: datetime
) -> User:
    """The user a link is good for, or InvalidLink. Does not spend the link."""
    return (await find_link(uow, token, purpose, now))[1]


async def find_link(
    uow: UnitOfWork, token: str, purpose: OneTimePurpose, now: datetime
) -> tuple[OneTimeTokenRecord, User]:
    """The link's record and the user it is good for, or InvalidLink. Does not spend it."""
    record = await uow.one_time_tokens.get(digest(token))
    if (
        record is None
        or record.purpose is not purpose
        or record.used_at is not None
        or record.expires_at <= now
    ):
        raise InvalidLink()
    user = await uow.users.get(record.user_id)
    if user is None or not user.is_active or user.token_version != record.user_stamp:
        raise InvalidLink()
    return record, user


async def redeem_link(uow: UnitOfWork, token: str, purpose: OneTimePurpose, now: datetime) -> User:
    """Check and spend a link in the caller's transaction; of concurrent redemptions of one
    link exactly one succeeds."""
    return (await redeem(uow, token, purpose, now))[1]


async def redeem(
    uow: UnitOfWork, token: str, purpose: OneTimePurpose, now: datetime
) -> tuple[OneTimeTokenRecord, User]:
    """``redeem_link``, with the link's record."""
    found = await find_link(uow, token, purpose, now)
    if not await uow.one_time_tokens.mark_used(digest(token), now):
        raise InvalidLink()
    return found
