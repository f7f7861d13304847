"""RFC 6238 time-based one-time passwords, by pyotp (``TotpAlgorithm``).

pyotp computes the codes (HMAC-SHA-1, 6 digits, 30-second steps: what every authenticator
app expects) and compares them in constant time; this adapter only says which step of the
drift window a code belongs to, which the domain needs to refuse a replay.
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from pyotp.utils import strings_equal

SECRET_LENGTH = 32
"""Base32 characters: 160 bits, the key length RFC 4226 section 4 recommends."""

DRIFT_STEPS = 1
"""Steps either side of the current one whose codes are accepted (RFC 6238 section 5.2)."""


class PyotpTotp:
    def new_secret(self) -> str:
        return pyotp.random_base32(SECRET_LENGTH)

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    def step_at(self, at: datetime) -> int:
        return int(pyotp.TOTP("A" * SECRET_LENGTH).timecode(at))

    def code_at(self, secret: str, step: int) -> str:
        return pyotp.TOTP(secret).generate_otp(step)

    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        totp = pyotp.TOTP(secret)
        now = self.step_at(at)
        matches = [
            step
            for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1)
            if strings_equal(totp.generate_otp(step), code)  # every step, no early exit
        ]
        return matches[-1] if matches else None
