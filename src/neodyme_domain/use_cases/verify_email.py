"""Confirm an e-mail address with the link that was sent to it."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.tokens.model import OneTimePurpose
from neodyme_domain.use_cases.links import redeem_link


@dataclass(frozen=True, slots=True)
class VerifyEmailCommand:
    token: str
    origin: RequestOrigin = NO_ORIGIN


class VerifyEmail:
    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: VerifyEmailCommand) -> User:
        now = self._clock.now()
        async with self._uow as uow:
            user = await redeem_link(uow, cmd.token, OneTimePurpose.EMAIL_VERIFICATION, now)
            user.mark_verified(now)
            await uow.users.update(user)
            await uow.events.record(SecurityEvent.of("email_verified", now, user.id, cmd.origin))
            await uow.commit()
        return user
