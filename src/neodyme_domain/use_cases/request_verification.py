"""Ask for an e-mail that proves the address belongs to the user."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.messages import NO_ORIGIN, EmailMessage, RequestOrigin, SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.tokens.model import OneTimePurpose
from neodyme_domain.use_cases.links import LinkSettings, issue_link


@dataclass(frozen=True, slots=True)
class VerificationRequest:
    user: User
    origin: RequestOrigin = NO_ORIGIN


class RequestVerification:
    """Idempotent: an already verified address gets no e-mail (and the answer is the same)."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock, links: LinkSettings) -> None:
        self._uow = uow
        self._clock = clock
        self._links = links

    async def __call__(self, cmd: VerificationRequest) -> None:
        if cmd.user.is_verified:
            return
        now = self._clock.now()
        async with self._uow as uow:
            purpose = OneTimePurpose.EMAIL_VERIFICATION
            link = await issue_link(uow, cmd.user, purpose, self._links, now)
            await uow.outbox.add(EmailMessage.verification(cmd.user, link, self._links.ttl), now)
            await uow.events.record(
                SecurityEvent.of("verification_requested", now, cmd.user.id, cmd.origin)
            )
            await uow.commit()
