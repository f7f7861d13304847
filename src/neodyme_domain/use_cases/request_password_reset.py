"""Forgotten password: e-mail a one-time reset link, if the address has an account."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import TooManyAttempts
from neodyme_domain.messages import NO_ORIGIN, EmailMessage, RequestOrigin, SecurityEvent
from neodyme_domain.model import Email
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.throttling import (
    ADDRESS_LIMITS,
    ThrottleLimits,
    register_failure,
    reset_key,
)
from neodyme_domain.tokens.model import OneTimePurpose
from neodyme_domain.use_cases.links import LinkSettings, issue_link


@dataclass(frozen=True, slots=True)
class PasswordResetRequest:
    email: str
    origin: RequestOrigin = NO_ORIGIN


class RequestPasswordReset:
    """The caller learns nothing about whether the address exists: the result is the same
    and both paths do the same database round trips (a lookup, one committed write).
    Unknown and inactive addresses get no e-mail; the request is still recorded.

    Every request counts against its client address (``reset_key``) with the limits of
    the per-address login ceiling; over them, TOO_MANY_ATTEMPTS and nothing is written.
    That bounds the e-mails one client can make the service send to anyone's inbox."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        clock: Clock,
        links: LinkSettings,
        limits: ThrottleLimits = ADDRESS_LIMITS,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._links = links
        self._limits = limits

    async def __call__(self, cmd: PasswordResetRequest) -> None:
        email = Email.parse(cmd.email)  # a malformed address is a 422, like everywhere
        now = self._clock.now()
        key = reset_key(cmd.origin.client_ip)
        async with self._uow as uow:
            if key is not None:
                state = await uow.throttle.get(key)
                if state is not None and (wait := state.retry_after(now)) is not None:
                    raise TooManyAttempts(retry_after=wait, context={"key": key})
                await uow.throttle.put(register_failure(state, key, now, self._limits))
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
