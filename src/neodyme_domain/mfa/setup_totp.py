"""Start turning on two-factor sign-in: a new TOTP secret, pending until a code confirms it."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import MfaAlreadyEnabled
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin
from neodyme_domain.mfa.model import TotpAuthenticator
from neodyme_domain.model import User
from neodyme_domain.ports import (
    Clock,
    PasswordHasher,
    QrCodes,
    SecretBox,
    TotpAlgorithm,
    UnitOfWork,
)
from neodyme_domain.reauthentication import confirm_password
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class TotpSetupCommand:
    user: User
    password: str
    origin: RequestOrigin = NO_ORIGIN


@dataclass(frozen=True, slots=True)
class TotpSetup:
    """Shown once, to be put into an authenticator app: the secret as text, the
    ``otpauth://`` URI, and that URI as a QR code (SVG)."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class SetupTotp:
    """Nothing is on yet: the secret is stored sealed (``SecretBox``) as a pending
    authenticator, which ``ConfirmTotp`` turns on once a code from the app proves the app
    has it. A second setup before confirming replaces the pending secret (the app scanned
    the wrong code, or the user started over); with two-factor sign-in already on, setup
    is refused (turn it off first, which needs a code).

    The password is asked again: an access token alone must not add a second factor that
    would lock the owner out of their own account.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        totp: TotpAlgorithm,
        qr: QrCodes,
        box: SecretBox,
        clock: Clock,
        issuer: str,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._totp = totp
        self._qr = qr
        self._box = box
        self._clock = clock
        self._issuer = issuer

    async def __call__(self, cmd: TotpSetupCommand) -> TotpSetup:
        await confirm_password(self._hasher, cmd.user, cmd.password)
        secret = self._totp.new_secret()
        uri = self._totp.provisioning_uri(secret, account=cmd.user.email.value, issuer=self._issuer)
        now = self._clock.now()
        async with self._uow as uow:
            user = await fresh_copy(uow, cmd.user)
            if user.mfa_enabled:
                raise MfaAlreadyEnabled(context={"user_id": user.id})
            await uow.totp.put(TotpAuthenticator(user.id, self._box.seal(secret), now))
            await uow.commit()
        return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=self._qr.svg(uri))
