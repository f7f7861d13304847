"""An administrator turns a user's two-factor sign-in off: the user lost every factor."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.access import target_user
from neodyme_domain.errors import Forbidden, MfaNotEnabled
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin
from neodyme_domain.mfa.turn_off import turn_off
from neodyme_domain.model import User, UserId
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class MfaResetCommand:
    requester: User
    user_id: UserId
    origin: RequestOrigin = NO_ORIGIN


class ResetMfa:
    """Superusers only (their own account too: they lose their phone like anyone). The
    user signs in with the password alone afterwards and can set a new factor up; the
    change is recorded (``mfa_disabled``, ``by: admin``) and the user told by e-mail."""

    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: MfaResetCommand) -> None:
        if not cmd.requester.is_superuser:
            raise Forbidden(context={"requester": cmd.requester.id, "action": "reset mfa"})
        now = self._clock.now()
        async with self._uow as uow:
            user = await fresh_copy(uow, await target_user(uow, cmd.requester, cmd.user_id))
            if not user.mfa_enabled:
                raise MfaNotEnabled(context={"user_id": user.id})
            await turn_off(uow, user, "admin", now, cmd.origin)
            await uow.commit()
