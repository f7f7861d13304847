"""The federation use cases on the in-memory adapters, with the in-memory provider
(``InMemoryIdentityProviders``) playing the provider's part."""

from __future__ import annotations

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_adapters.memory.identity_providers import InMemoryIdentityProviders
from neodyme_domain.federation.begin_federation import BeginFederation
from neodyme_domain.federation.complete_federation import CompleteFederation
from neodyme_domain.federation.confirm_link import ConfirmLink
from neodyme_domain.federation.list_identities import ListIdentities
from neodyme_domain.federation.model import ProviderInfo
from neodyme_domain.federation.unlink_identity import UnlinkIdentity
from neodyme_domain.use_cases import AuthenticateUser

CALLBACK = "https://id.example/login/oidc/acme/callback"


@pytest.fixture
def providers() -> InMemoryIdentityProviders:
    return InMemoryIdentityProviders([ProviderInfo("acme", "Acme"), ProviderInfo("other", "Other")])


@pytest.fixture
def begin(
    database: MemoryDatabase, providers: InMemoryIdentityProviders, clock: ManualClock
) -> BeginFederation:
    return BeginFederation(uow=InMemoryUnitOfWork(database), providers=providers, clock=clock)


@pytest.fixture
def complete(
    database: MemoryDatabase,
    providers: InMemoryIdentityProviders,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> CompleteFederation:
    return CompleteFederation(
        uow=InMemoryUnitOfWork(database), providers=providers, tokens=tokens, clock=clock
    )


@pytest.fixture
def confirm(
    database: MemoryDatabase, authenticate_user: AuthenticateUser, clock: ManualClock
) -> ConfirmLink:
    return ConfirmLink(
        uow=InMemoryUnitOfWork(database), authenticate=authenticate_user, clock=clock
    )


@pytest.fixture
def list_identities(database: MemoryDatabase) -> ListIdentities:
    return ListIdentities(uow=InMemoryUnitOfWork(database))


@pytest.fixture
def unlink(database: MemoryDatabase, clock: ManualClock) -> UnlinkIdentity:
    return UnlinkIdentity(uow=InMemoryUnitOfWork(database), clock=clock)
