"""Finish turning on two-factor sign-in: a code from the app proves it holds the secret."""

from __future__ import annotations

from dataclasses import dataclass, replace

from neodyme_domain.errors import InvalidCode, MfaAlreadyEnabled, MfaSetupRequired
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.mfa.recovery_codes import new_recovery_codes, recovery_code_digest
from neodyme_domain.model import User
from neodyme_domain.notices import security_notice
from neodyme_domain.ports import Clock, SecretBox, TotpAlgorithm, UnitOfWork
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class TotpConfirmation:
    user: User
    code: str
    origin: RequestOrigin = NO_ORIGIN


class ConfirmTotp:
    """The code is spent like any other (no replay), the account's second factor is on,
    and a first set of recovery codes is returned: shown this once, stored as digests.
    ``mfa_enabled`` is recorded and the owner told by e-mail. Sessions stay as they are."""

    def __init__(
        self, *, uow: UnitOfWork, totp: TotpAlgorithm, box: SecretBox, clock: Clock
    ) -> None:
        self._uow = uow
        self._totp = totp
        self._box = box
        self._clock = clock

    async def __call__(self, cmd: TotpConfirmation) -> list[str]:
        codes = new_recovery_codes()
        now = self._clock.now()
        async with self._uow as uow:
            user = await fresh_copy(uow, cmd.user)
            if user.mfa_enabled:
                raise MfaAlreadyEnabled(context={"user_id": user.id})
            pending = await uow.totp.get(user.id)
            if pending is None:
                raise MfaSetupRequired(context={"user_id": user.id})
            secret = self._box.open(pending.sealed_secret)
            step = self._totp.matching_step(secret, cmd.code.strip(), now)
            if step is None or not await uow.totp.use_step(user.id, step):
                raise InvalidCode(context={"user_id": user.id})
            await uow.totp.put(replace(pending, confirmed_at=now, last_used_step=step))
            await uow.recovery_codes.replace(user.id, [recovery_code_digest(c) for c in codes])
            user.enable_mfa(now)
            await uow.users.update(user)
            await uow.events.record(
                SecurityEvent.of("mfa_enabled", now, user.id, cmd.origin, method="totp")
            )
            await uow.outbox.add(security_notice("mfa_enabled", user, now, cmd.origin), now)
            await uow.commit()
        return codes
