"""Forgotten password: e-mail a one-time reset link, if the address has an account."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.messages import NO_ORIGIN, EmailMessage, RequestOrigin, SecurityEvent
from neodyme_domain.model import Email
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.tokens import OneTimePurpose
from neodyme_domain.use_cases.links import LinkSettings, issue_link


@dataclass(frozen=True, slots=True)
class PasswordResetRequest:
    email: str
    origin: RequestOrigin = NO_ORIGIN


class RequestPasswordReset:
    """The caller learns nothing about whether the address exists: the result is the same
    and both paths do the same database round trips (a lookup, one committed write).
    Unknown and inactive addresses get no e-mail; the request is still recorded."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock, links: LinkSettings) -> None:
        self._uow = uow
        self._clock = clock
        self._links = links

    async def __call__(self, cmd: PasswordResetRequest) -> None:
        email = Email.parse(cmd.email)  # a malformed address is a 422, like everywhere
        now = self._clock.now()
        async with self._uow as uow:
            user = await uow.users.get_by_email(email)
            if user is not None and user.is_active:
                link = await issue_link(uow, user, OneTimePurpose.PASSWORD_RESET, self._links, now)
                await uow.outbox.add(EmailMessage.password_reset(user, link, self._links.ttl), now)
            await uow.events.record(
                SecurityEvent.of(
                    "password_reset_requested",
                    now,
                    user.id if user else None,
                    cmd.origin,
                    email=email.value,
                )
            )
            await uow.commit()
