"""The passkey use cases on the in-memory adapters, with the real ceremonies adapter
(py_webauthn: pure computation) answered by a software authenticator."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.fernet_box import FernetSecretBox
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_adapters.totp import PyotpTotp
from neodyme_adapters.webauthn_ceremonies import PyWebAuthnCeremonies, RelyingParty
from neodyme_domain.mfa.verify_mfa import VerifyMfa
from neodyme_domain.model import User
from neodyme_domain.passkeys.add_passkey import AddPasskey, PasskeyRegistration
from neodyme_domain.passkeys.begin_registration import (
    BeginPasskeyRegistration,
    PasskeyOptionsRequest,
)
from neodyme_domain.passkeys.begin_sign_in import BeginPasskeySignIn
from neodyme_domain.passkeys.list_passkeys import ListPasskeys
from neodyme_domain.passkeys.model import Passkey
from neodyme_domain.passkeys.remove_passkey import RemovePasskey
from neodyme_domain.passkeys.rename_passkey import RenamePasskey
from neodyme_domain.passkeys.sign_in import SignInWithPasskey
from neodyme_domain.use_cases import Registered
from tests.support.authenticator import Credential, SoftAuthenticator
from tests.unit.domain.helpers import PASSWORD

ORIGIN = "https://id.example"
RP = RelyingParty(id="id.example", name="neodyme-tests", origins=(ORIGIN,))


@pytest.fixture
def ceremonies() -> PyWebAuthnCeremonies:
    return PyWebAuthnCeremonies(RP)


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


@pytest.fixture
def begin_registration(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    ceremonies: PyWebAuthnCeremonies,
    clock: ManualClock,
) -> BeginPasskeyRegistration:
    return BeginPasskeyRegistration(
        uow=InMemoryUnitOfWork(database), hasher=hasher, ceremonies=ceremonies, clock=clock
    )


@pytest.fixture
def add_passkey(
    database: MemoryDatabase, ceremonies: PyWebAuthnCeremonies, clock: ManualClock
) -> AddPasskey:
    return AddPasskey(uow=InMemoryUnitOfWork(database), ceremonies=ceremonies, clock=clock)


@pytest.fixture
def begin_sign_in(
    database: MemoryDatabase, ceremonies: PyWebAuthnCeremonies, clock: ManualClock
) -> BeginPasskeySignIn:
    return BeginPasskeySignIn(uow=InMemoryUnitOfWork(database), ceremonies=ceremonies, clock=clock)


@pytest.fixture
def sign_in(
    database: MemoryDatabase,
    ceremonies: PyWebAuthnCeremonies,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> SignInWithPasskey:
    return SignInWithPasskey(
        uow=InMemoryUnitOfWork(database), ceremonies=ceremonies, tokens=tokens, clock=clock
    )


@pytest.fixture
def verify_mfa(database: MemoryDatabase, tokens: JwtTokenService, clock: ManualClock) -> VerifyMfa:
    return VerifyMfa(
        uow=InMemoryUnitOfWork(database),
        totp=PyotpTotp(),
        box=FernetSecretBox([Fernet.generate_key()]),
        tokens=tokens,
        clock=clock,
    )


@pytest.fixture
def list_passkeys(database: MemoryDatabase) -> ListPasskeys:
    return ListPasskeys(uow=InMemoryUnitOfWork(database))


@pytest.fixture
def rename_passkey(database: MemoryDatabase) -> RenamePasskey:
    return RenamePasskey(uow=InMemoryUnitOfWork(database))


@pytest.fixture
def remove_passkey(database: MemoryDatabase, clock: ManualClock) -> RemovePasskey:
    return RemovePasskey(uow=InMemoryUnitOfWork(database), clock=clock)


@dataclass
class Enrolled:
    """A user with one passkey, and the authenticator holding its private key."""

    user: User
    passkey: Passkey
    credential: Credential


@pytest.fixture
async def with_passkey(
    begin_registration: BeginPasskeyRegistration,
    add_passkey: AddPasskey,
    authenticator: SoftAuthenticator,
    alice: Registered,
) -> Enrolled:
    options = await begin_registration(PasskeyOptionsRequest(alice.user, PASSWORD))
    answer = authenticator.create(options)
    passkey = await add_passkey(PasskeyRegistration(alice.user, answer, "Laptop"))
    return Enrolled(alice.user, passkey, authenticator.credentials[passkey.credential_id])
