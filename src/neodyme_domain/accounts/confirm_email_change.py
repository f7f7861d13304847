"""Switch to the new e-mail address, with the link that was sent to it."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import EmailAlreadyExists, InvalidLink
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import Email, User
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.tokens.model import OneTimePurpose
from neodyme_domain.use_cases.links import redeem


@dataclass(frozen=True, slots=True)
class EmailChangeConfirmation:
    token: str
    origin: RequestOrigin = NO_ORIGIN


class ConfirmEmailChange:
    """Following the link proves the new address is the user's: the account switches to
    it, verified. No sign-in is needed (the link may be opened on another device), and
    sessions stay as they are: the address changed, not who holds the account.

    If another account took the address since the request, EMAIL_ALREADY_EXISTS (409) and
    nothing changes; the link is not spent (the transaction is rolled back), but it can
    only succeed if that address is freed again before it expires.
    """

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: EmailChangeConfirmation) -> User:
        now = self._clock.now()
        async with self._uow as uow:
            record, user = await redeem(uow, cmd.token, OneTimePurpose.EMAIL_CHANGE, now)
            if record.new_email is None:  # never stored so: the request always sets it
                raise InvalidLink()
            new_email = Email(record.new_email)
            old_email = user.email.value
            if await uow.users.get_by_email(new_email) is not None:
                raise EmailAlreadyExists(new_email.value)
            user.change_email(new_email, now)
            await uow.users.update(user)  # a race to the address ends in EmailAlreadyExists
            await uow.events.record(
                SecurityEvent.of(
                    "email_changed",
                    now,
                    user.id,
                    cmd.origin,
                    old_email=old_email,
                    new_email=new_email.value,
                )
            )
            await uow.commit()
        return user
