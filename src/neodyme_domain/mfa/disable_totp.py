"""Turn two-factor sign-in off: the password and a code, both."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import InvalidCode, MfaNotEnabled
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin
from neodyme_domain.mfa.second_factor import SecondFactor, spend
from neodyme_domain.mfa.turn_off import turn_off
from neodyme_domain.model import User
from neodyme_domain.ports import Clock, PasswordHasher, SecretBox, TotpAlgorithm, UnitOfWork
from neodyme_domain.reauthentication import confirm_password
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class TotpDisableCommand:
    user: User
    password: str
    code: str
    """A code of the authenticator, or one of the recovery codes (a lost phone)."""
    origin: RequestOrigin = NO_ORIGIN


class DisableTotp:
    """Both factors are asked for, so that neither a stolen access token with the password
    nor one with the phone can remove the other factor. The code may be a recovery code:
    someone who lost their phone signs in with one and can then turn the factor off (and
    on again with a new phone)."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        totp: TotpAlgorithm,
        box: SecretBox,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._totp = totp
        self._box = box
        self._clock = clock

    async def __call__(self, cmd: TotpDisableCommand) -> None:
        await confirm_password(self._hasher, cmd.user, cmd.password)
        now = self._clock.now()
        async with self._uow as uow:
            user = await fresh_copy(uow, cmd.user)
            if not user.mfa_enabled:
                raise MfaNotEnabled(context={"user_id": user.id})
            factor = SecondFactor.typed(cmd.code)
            if not await spend(uow, self._totp, self._box, user, factor, now):
                raise InvalidCode(context={"user_id": user.id})
            await turn_off(uow, user, "user", now, cmd.origin)
            await uow.commit()
