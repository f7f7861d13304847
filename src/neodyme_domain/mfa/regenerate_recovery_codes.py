"""A new set of recovery codes; every code of the old set dies."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import MfaNotEnabled
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.mfa.recovery_codes import new_recovery_codes, recovery_code_digest
from neodyme_domain.model import User
from neodyme_domain.ports import Clock, PasswordHasher, UnitOfWork
from neodyme_domain.reauthentication import confirm_password
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class RecoveryCodesRequest:
    user: User
    password: str
    origin: RequestOrigin = NO_ORIGIN


class RegenerateRecoveryCodes:
    """For a user who used some codes up or fears the list was seen: the password again,
    then a fresh set, returned once. Recorded as ``recovery_codes_regenerated``."""

    def __init__(self, *, uow: UnitOfWork, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    async def __call__(self, cmd: RecoveryCodesRequest) -> list[str]:
        await confirm_password(self._hasher, cmd.user, cmd.password)
        codes = new_recovery_codes()
        now = self._clock.now()
        async with self._uow as uow:
            user = await fresh_copy(uow, cmd.user)
            if not user.mfa_enabled:
                raise MfaNotEnabled(context={"user_id": user.id})
            digests = [recovery_code_digest(code) for code in codes]
            await uow.recovery_codes.replace(user.id, digests)
            await uow.events.record(
                SecurityEvent.of("recovery_codes_regenerated", now, user.id, cmd.origin)
            )
            await uow.commit()
        return codes
