"""Ask to change one's e-mail address: a link to the new address, a notice to the old."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import EmailAlreadyExists, ValidationFailed
from neodyme_domain.messages import NO_ORIGIN, EmailMessage, RequestOrigin, SecurityEvent
from neodyme_domain.model import Email, User
from neodyme_domain.notices import security_notice
from neodyme_domain.ports import Clock, PasswordHasher, UnitOfWork
from neodyme_domain.reauthentication import confirm_password
from neodyme_domain.tokens.model import OneTimePurpose
from neodyme_domain.use_cases.fresh import fresh_copy
from neodyme_domain.use_cases.links import LinkSettings, issue_link


@dataclass(frozen=True, slots=True)
class EmailChangeRequest:
    user: User
    new_email: str
    password: str
    origin: RequestOrigin = NO_ORIGIN


class RequestEmailChange:
    """Nothing about the account changes here: the address switches only when the link
    e-mailed to the new address is followed (``ConfirmEmailChange``), which proves the
    address is the user's. The old address is told at once, so that an intruder who knows
    the password cannot move the account away unseen.

    The password is asked again (a stolen access token alone must not move the account).
    An address another account holds is refused now (409) and again at confirmation, when
    it may have been taken meanwhile. The link lives as long as a verification link and
    dies, like every link, when the password changes or the account is deactivated.
    """

    def __init__(
        self, *, uow: UnitOfWork, hasher: PasswordHasher, clock: Clock, links: LinkSettings
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._links = links

    async def __call__(self, cmd: EmailChangeRequest) -> None:
        new_email = _parse(cmd.new_email)
        if new_email.key == cmd.user.email.key:
            raise ValidationFailed("new_email", "is already the address of this account")
        await confirm_password(self._hasher, cmd.user, cmd.password)
        now = self._clock.now()
        async with self._uow as uow:
            user = await fresh_copy(uow, cmd.user)
            if await uow.users.get_by_email(new_email) is not None:
                raise EmailAlreadyExists(new_email.value)
            purpose = OneTimePurpose.EMAIL_CHANGE
            link = await issue_link(uow, user, purpose, self._links, now, new_email=new_email.value)
            await uow.outbox.add(
                EmailMessage.email_change(user, new_email.value, link, self._links.ttl), now
            )
            await uow.outbox.add(
                security_notice(
                    "email_change_requested", user, now, cmd.origin, new_email=new_email.value
                ),
                now,
            )
            await uow.events.record(
                SecurityEvent.of(
                    "email_change_requested", now, user.id, cmd.origin, new_email=new_email.value
                )
            )
            await uow.commit()


def _parse(raw: str) -> Email:
    try:
        return Email.parse(raw)
    except ValidationFailed:
        raise ValidationFailed("new_email", "is not a valid e-mail address") from None
