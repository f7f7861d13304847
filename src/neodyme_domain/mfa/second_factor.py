"""Checking a second factor: a TOTP code or a recovery code, spent once when it matches.

Shared by the login's second step (``verify_mfa``) and turning the second factor off
(``disable_totp``). Both stores spend atomically (``TotpStore.use_step``,
``RecoveryCodeStore.use``), so of two requests with one code exactly one gets through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from neodyme_domain.mfa.model import TOTP_DIGITS, MfaMethod
from neodyme_domain.mfa.recovery_codes import recovery_code_digest
from neodyme_domain.model import User
from neodyme_domain.ports import SecretBox, TotpAlgorithm, UnitOfWork


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """What a user typed: an authenticator's code, or one of their recovery codes."""

    code: str | None = None
    recovery_code: str | None = None

    @classmethod
    def typed(cls, text: str) -> SecondFactor:
        """Whichever of the two ``text`` looks like: six digits are an authenticator's
        code, anything else a recovery code."""
        stripped = text.strip()
        if len(stripped) == TOTP_DIGITS and stripped.isascii() and stripped.isdigit():
            return cls(code=stripped)
        return cls(recovery_code=text)

    @property
    def method(self) -> MfaMethod:
        return MfaMethod.TOTP if self.code is not None else MfaMethod.RECOVERY_CODES


async def spend(
    uow: UnitOfWork,
    totp: TotpAlgorithm,
    box: SecretBox,
    user: User,
    factor: SecondFactor,
    now: datetime,
) -> bool:
    """Whether ``factor`` is right for ``user`` now; if it is, it is spent (a TOTP code's
    time step, or the recovery code) in ``uow``'s transaction."""
    if factor.code is not None:
        authenticator = await uow.totp.get(user.id)
        if authenticator is None or not authenticator.is_confirmed:
            return False
        secret = box.open(authenticator.sealed_secret)
        step = totp.matching_step(secret, factor.code.strip(), now)
        return step is not None and await uow.totp.use_step(user.id, step)
    if factor.recovery_code is not None:
        return await uow.recovery_codes.use(
            user.id, recovery_code_digest(factor.recovery_code), now
        )
    return False
