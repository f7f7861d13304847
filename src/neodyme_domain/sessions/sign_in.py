"""The last step every finished sign-in shares, whatever proved who the user is."""

from __future__ import annotations

from datetime import datetime, timedelta

from neodyme_domain.messages import RequestOrigin, SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.ports import TokenService, UnitOfWork
from neodyme_domain.sessions.issue import issue_pair
from neodyme_domain.throttling import account_key_of
from neodyme_domain.tokens.model import TokenPair


async def complete_sign_in(
    uow: UnitOfWork,
    tokens: TokenService,
    user: User,
    *,
    now: datetime,
    origin: RequestOrigin,
    new_device_window: timedelta | None,
    **facts: str,
) -> TokenPair:
    """Clear the account's failed-attempt count (the user proved who they are), record
    ``user_login`` with ``facts`` (how they proved it) and start a session, in ``uow``'s
    transaction."""
    await uow.throttle.delete(account_key_of(user.email))
    await uow.events.record(
        SecurityEvent.of("user_login", now, user.id, origin, email=user.email.value, **facts)
    )
    return await issue_pair(
        uow, tokens, user, now=now, origin=origin, new_device_window=new_device_window
    )
