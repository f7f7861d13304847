"""Shared fixtures of the unit tier: real in-memory adapters, real (cheap) argon2, a clock
that moves only when a test moves it. No network, no disk, no mocks.

Each fixture is one port implementation; the use case fixtures wire them the way the
container does, so a test reads as "given this state, calling this use case does that".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase, RecordingNotifier
from neodyme_app.config import Environment, Settings
from neodyme_domain import BOOK_POLICY, PasswordPolicy
from neodyme_domain.use_cases import (
    AuthenticateUser,
    ChangePassword,
    DeleteAccount,
    DeliverOutbox,
    GetCurrentUser,
    GetUser,
    LinkSettings,
    ListSecurityEvents,
    ListUsers,
    Logout,
    RefreshTokens,
    RegisterUser,
    RequestPasswordReset,
    RequestVerification,
    ResetPassword,
    SetUserActive,
    UpdateProfile,
    VerifyEmail,
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
def settings() -> Settings:
    """Settings for a container on in-memory storage with cheap hashing (the HTTP tests,
    the in-process facade)."""
    return Settings(
        environment=Environment.TESTING,
        database_url="memory://",
        secret_key="unit-tests-secret-key-of-at-least-32-bytes",
        argon2_memory_kib=64,
        argon2_time_cost=1,
    )


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
def get_current_user(
    database: MemoryDatabase, tokens: JwtTokenService, clock: ManualClock
) -> GetCurrentUser:
    return GetCurrentUser(uow=InMemoryUnitOfWork(database), tokens=tokens, clock=clock)


@pytest.fixture
def get_user(database: MemoryDatabase) -> GetUser:
    return GetUser(uow=InMemoryUnitOfWork(database))


@pytest.fixture
def deliver_outbox(
    database: MemoryDatabase, notifier: RecordingNotifier, clock: ManualClock
) -> DeliverOutbox:
    return DeliverOutbox(uow=InMemoryUnitOfWork(database), notifier=notifier, clock=clock)


# --- account lifecycle ---------------------------------------------------------------------


@pytest.fixture
def links() -> LinkSettings:
    return LinkSettings(public_url="https://app.example", ttl=timedelta(hours=1))


@pytest.fixture
def logout(database: MemoryDatabase, tokens: JwtTokenService, clock: ManualClock) -> Logout:
    return Logout(uow=InMemoryUnitOfWork(database), tokens=tokens, clock=clock)


@pytest.fixture
def change_password(
    database: MemoryDatabase, hasher: Argon2Hasher, policy: PasswordPolicy, clock: ManualClock
) -> ChangePassword:
    return ChangePassword(
        uow=InMemoryUnitOfWork(database), hasher=hasher, policy=policy, clock=clock
    )


@pytest.fixture
def request_password_reset(
    database: MemoryDatabase, clock: ManualClock, links: LinkSettings
) -> RequestPasswordReset:
    return RequestPasswordReset(uow=InMemoryUnitOfWork(database), clock=clock, links=links)


@pytest.fixture
def reset_password(
    database: MemoryDatabase, hasher: Argon2Hasher, policy: PasswordPolicy, clock: ManualClock
) -> ResetPassword:
    return ResetPassword(
        uow=InMemoryUnitOfWork(database), hasher=hasher, policy=policy, clock=clock
    )


@pytest.fixture
def request_verification(
    database: MemoryDatabase, clock: ManualClock, links: LinkSettings
) -> RequestVerification:
    return RequestVerification(uow=InMemoryUnitOfWork(database), clock=clock, links=links)


@pytest.fixture
def verify_email(database: MemoryDatabase, clock: ManualClock) -> VerifyEmail:
    return VerifyEmail(uow=InMemoryUnitOfWork(database), clock=clock)


@pytest.fixture
def update_profile(database: MemoryDatabase, clock: ManualClock) -> UpdateProfile:
    return UpdateProfile(uow=InMemoryUnitOfWork(database), clock=clock)


@pytest.fixture
def delete_account(
    database: MemoryDatabase, hasher: Argon2Hasher, clock: ManualClock
) -> DeleteAccount:
    return DeleteAccount(uow=InMemoryUnitOfWork(database), hasher=hasher, clock=clock)


@pytest.fixture
def list_users(database: MemoryDatabase) -> ListUsers:
    return ListUsers(uow=InMemoryUnitOfWork(database))


@pytest.fixture
def set_user_active(database: MemoryDatabase, clock: ManualClock) -> SetUserActive:
    return SetUserActive(uow=InMemoryUnitOfWork(database), clock=clock)


@pytest.fixture
def list_security_events(database: MemoryDatabase) -> ListSecurityEvents:
    return ListSecurityEvents(uow=InMemoryUnitOfWork(database))
