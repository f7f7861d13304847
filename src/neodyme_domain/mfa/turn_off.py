"""Turning two-factor sign-in off, by its owner or by an administrator: shared steps."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from neodyme_domain.messages import RequestOrigin, SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.notices import security_notice
from neodyme_domain.ports import UnitOfWork

_BY = {"user": "by you", "admin": "by an administrator"}


async def turn_off(
    uow: UnitOfWork, user: User, by: Literal["user", "admin"], now: datetime, origin: RequestOrigin
) -> None:
    """Forget the authenticator and the recovery codes, record ``mfa_disabled`` and tell
    the owner. Sessions stay: the password still holds the account."""
    await uow.totp.delete(user.id)
    await uow.recovery_codes.delete_all(user.id)
    user.disable_mfa(now)
    await uow.users.update(user)
    await uow.events.record(SecurityEvent.of("mfa_disabled", now, user.id, origin, by=by))
    await uow.outbox.add(security_notice("mfa_disabled", user, now, origin, by=_BY[by]), now)
