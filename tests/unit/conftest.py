"""Shared fixtures of the unit tier: real in-memory adapters, real (cheap) argon2, a clock
that moves only when a test moves it. No network, no disk, no mocks.

Each fixture is one port implementation; the use case fixtures wire them the way the
container does, so a test reads as "given this state, calling this use case does that".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase, RecordingNotifier
from neodyme_domain import BOOK_POLICY, PasswordPolicy
from neodyme_domain.use_cases import (
    AuthenticateUser,
    DeliverOutbox,
    GetCurrentUser,
    GetUser,
    RefreshTokens,
    RegisterUser,
)

TEST_JWT_SECRET = "neodyme-unit-tier-signing-secret-0123456789"
"""Over 32 bytes, as HS256 wants; only ever used in-process."""


@pytest.fixture
def clock() -> ManualClock:
    # Starts at the wall time, so a test that advances it runs ahead of the wall clock (the
    # adapters must judge time by this clock alone). Whole seconds, because JWT times are
    # whole seconds: a token's exp then equals its stored record's expiry exactly.
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def database() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def uow(database: MemoryDatabase) -> InMemoryUnitOfWork:
    """A unit of work for a test's own reads and writes (arrange and assert)."""
    return InMemoryUnitOfWork(database)


@pytest.fixture
def hasher() -> Iterator[Argon2Hasher]:
    hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=2)
    yield hasher
    hasher.close()


@pytest.fixture
def jwt_secret() -> str:
    return TEST_JWT_SECRET


@pytest.fixture
def tokens(jwt_secret: str, clock: ManualClock) -> JwtTokenService:
    return JwtTokenService(secret=jwt_secret, clock=clock)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def policy() -> PasswordPolicy:
    return BOOK_POLICY


@pytest.fixture
def register_user(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    policy: PasswordPolicy,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> RegisterUser:
    return RegisterUser(
        uow=InMemoryUnitOfWork(database),
        hasher=hasher,
        policy=policy,
        tokens=tokens,
        clock=clock,
    )


@pytest.fixture
def authenticate_user(
    database: MemoryDatabase, hasher: Argon2Hasher, tokens: JwtTokenService, clock: ManualClock
) -> AuthenticateUser:
    return AuthenticateUser(
        uow=InMemoryUnitOfWork(database), hasher=hasher, tokens=tokens, clock=clock
    )


@pytest.fixture
def refresh_tokens(
    database: MemoryDatabase, tokens: JwtTokenService, clock: ManualClock
) -> RefreshTokens:
    return RefreshTokens(uow=InMemoryUnitOfWork(database), tokens=tokens, clock=clock)


@pytest.fixture
def get_current_user(database: MemoryDatabase, tokens: JwtTokenService) -> GetCurrentUser:
    return GetCurrentUser(uow=InMemoryUnitOfWork(database), tokens=tokens)


@pytest.fixture
def get_user(database: MemoryDatabase) -> GetUser:
    return GetUser(uow=InMemoryUnitOfWork(database))


@pytest.fixture
def deliver_outbox(
    database: MemoryDatabase, notifier: RecordingNotifier, clock: ManualClock
) -> DeliverOutbox:
    return DeliverOutbox(uow=InMemoryUnitOfWork(database), notifier=notifier, clock=clock)
