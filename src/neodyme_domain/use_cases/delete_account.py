"""Delete one's own account, proving the password."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import InvalidCredentials
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.passwords import check_length_bound
from neodyme_domain.ports import Clock, PasswordHasher, UnitOfWork
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class DeleteAccountCommand:
    user: User
    password: str
    origin: RequestOrigin = NO_ORIGIN


class DeleteAccount:
    """The user row goes, and with it every token (their lookups fail from the next
    request on) and the claim on the e-mail address, which can be registered again. The
    security history stays: it is the audit trail of what happened to the account."""

    def __init__(self, *, uow: UnitOfWork, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    async def __call__(self, cmd: DeleteAccountCommand) -> None:
        check_length_bound(cmd.password)
        if not await self._hasher.verify(cmd.user.hashed_password, cmd.password):
            raise InvalidCredentials(context={"user_id": cmd.user.id, "reason": "delete"})
        now = self._clock.now()
        async with self._uow as uow:
            # The password was checked against the copy read before: if the sessions were
            # revoked meanwhile (a password change or reset, a deactivation), this request
            # belongs to a session that has ended, and must not outlive it.
            user = await fresh_copy(uow, cmd.user)
            await uow.users.delete(user.id)
            await uow.events.record(
                SecurityEvent.of(
                    "account_deleted", now, user.id, cmd.origin, email=user.email.value
                )
            )
            await uow.commit()
