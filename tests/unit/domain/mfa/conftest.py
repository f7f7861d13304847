"""The second factor's use cases on the in-memory adapters, with the real TOTP, QR and
encryption adapters (pure computation) and the unit tier's manual clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest
from cryptography.fernet import Fernet

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.fernet_box import FernetSecretBox
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_adapters.qr_svg import SegnoQrCodes
from neodyme_adapters.totp import PyotpTotp
from neodyme_domain.errors import MfaRequired
from neodyme_domain.mfa.confirm_totp import ConfirmTotp, TotpConfirmation
from neodyme_domain.mfa.disable_totp import DisableTotp
from neodyme_domain.mfa.regenerate_recovery_codes import RegenerateRecoveryCodes
from neodyme_domain.mfa.reset_mfa import ResetMfa
from neodyme_domain.mfa.setup_totp import SetupTotp, TotpSetupCommand
from neodyme_domain.mfa.verify_mfa import VerifyMfa
from neodyme_domain.model import User
from neodyme_domain.use_cases import AuthenticateCommand, AuthenticateUser, Registered
from tests.unit.domain.helpers import PASSWORD, stored_user

ISSUER = "neodyme-tests"
STEP = timedelta(seconds=30)
"""One RFC 6238 time step."""


@dataclass
class Enrolled:
    """A user with two-factor sign-in on: the secret their app holds, their codes."""

    user: User
    secret: str
    recovery_codes: list[str]


@pytest.fixture
def key() -> bytes:
    """The encryption key of the TOTP secrets (NEODYME_ENCRYPTION_KEYS)."""
    return Fernet.generate_key()


@pytest.fixture
def box(key: bytes) -> FernetSecretBox:
    return FernetSecretBox([key])


@pytest.fixture
def setup_totp(
    database: MemoryDatabase, hasher: Argon2Hasher, box: FernetSecretBox, clock: ManualClock
) -> SetupTotp:
    return SetupTotp(
        uow=InMemoryUnitOfWork(database),
        hasher=hasher,
        totp=PyotpTotp(),
        qr=SegnoQrCodes(),
        box=box,
        clock=clock,
        issuer=ISSUER,
    )


@pytest.fixture
def confirm_totp(database: MemoryDatabase, box: FernetSecretBox, clock: ManualClock) -> ConfirmTotp:
    return ConfirmTotp(uow=InMemoryUnitOfWork(database), totp=PyotpTotp(), box=box, clock=clock)


@pytest.fixture
def verify_mfa(
    database: MemoryDatabase, box: FernetSecretBox, tokens: JwtTokenService, clock: ManualClock
) -> VerifyMfa:
    return VerifyMfa(
        uow=InMemoryUnitOfWork(database), totp=PyotpTotp(), box=box, tokens=tokens, clock=clock
    )


@pytest.fixture
def regenerate(
    database: MemoryDatabase, hasher: Argon2Hasher, clock: ManualClock
) -> RegenerateRecoveryCodes:
    return RegenerateRecoveryCodes(uow=InMemoryUnitOfWork(database), hasher=hasher, clock=clock)


@pytest.fixture
def disable_totp(
    database: MemoryDatabase, hasher: Argon2Hasher, box: FernetSecretBox, clock: ManualClock
) -> DisableTotp:
    return DisableTotp(
        uow=InMemoryUnitOfWork(database), hasher=hasher, totp=PyotpTotp(), box=box, clock=clock
    )


@pytest.fixture
def reset_mfa(database: MemoryDatabase, clock: ManualClock) -> ResetMfa:
    return ResetMfa(uow=InMemoryUnitOfWork(database), clock=clock)


def code_now(secret: str, clock: ManualClock, steps: int = 0) -> str:
    """What the authenticator app shows at the clock's time (``steps`` later or earlier)."""
    return pyotp.TOTP(secret).at(clock.now(), counter_offset=steps)


@pytest.fixture
async def enrolled(
    setup_totp: SetupTotp,
    confirm_totp: ConfirmTotp,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> Enrolled:
    setup = await setup_totp(TotpSetupCommand(alice.user, PASSWORD))
    codes = await confirm_totp(TotpConfirmation(alice.user, code_now(setup.secret, clock)))
    clock.advance(STEP)  # the confirming code is spent: the next one is new
    user = await stored_user(database, alice.user.id)
    assert user is not None
    return Enrolled(user, setup.secret, codes)


async def mfa_token(authenticate_user: AuthenticateUser, email: str = "alice@example.com") -> str:
    """The ``mfa_token`` a right password gets from an account with two-factor sign-in."""
    with pytest.raises(MfaRequired) as asked:
        await authenticate_user(AuthenticateCommand(email, PASSWORD))
    return asked.value.mfa_token
