"""What the login use case tells its monitor (the metrics): one outcome per attempt, and a
lockout each time one takes effect, not at every refusal while it lasts."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase, RecordingLoginMonitor
from neodyme_domain import AccountInactive, InvalidCredentials, TooManyAttempts, ValidationFailed
from neodyme_domain.messages import RequestOrigin
from neodyme_domain.throttling import DEFAULT_LOGIN_LIMITS, LoginLimits, ThrottleLimits
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    Registered,
)
from tests.unit.domain.helpers import PASSWORD, set_active

ORIGIN = RequestOrigin(client_ip="203.0.113.9", user_agent="pytest")
WRONG = "WrongPassword123!"


@pytest.fixture
def monitor() -> RecordingLoginMonitor:
    return RecordingLoginMonitor()


def monitored(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    tokens: JwtTokenService,
    clock: ManualClock,
    monitor: RecordingLoginMonitor,
    limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
) -> AuthenticateUser:
    return AuthenticateUser(
        uow=InMemoryUnitOfWork(database),
        hasher=hasher,
        tokens=tokens,
        clock=clock,
        limits=limits,
        monitor=monitor,
    )


@pytest.fixture
def login(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    tokens: JwtTokenService,
    clock: ManualClock,
    monitor: RecordingLoginMonitor,
) -> AuthenticateUser:
    return monitored(database, hasher, tokens, clock, monitor)


async def try_login(login: AuthenticateUser, email: str, password: str) -> None:
    """One attempt, however it ends: the monitor is what these tests look at."""
    with contextlib.suppress(InvalidCredentials, TooManyAttempts, AccountInactive):
        await login(AuthenticateCommand(email, password, ORIGIN))


async def test_each_outcome_is_counted_once(
    login: AuthenticateUser,
    monitor: RecordingLoginMonitor,
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
) -> None:
    await set_active(database, bob.user.id, active=False)

    await try_login(login, "alice@example.com", PASSWORD)
    await try_login(login, "alice@example.com", WRONG)
    await try_login(login, "nobody@example.com", PASSWORD)  # unknown: invalid, like a wrong one
    await try_login(login, "bob@example.com", PASSWORD)

    assert monitor.outcomes == {"success": 1, "invalid": 2, "inactive": 1}
    assert not monitor.lockouts


async def test_the_fifth_failure_locks_the_account_once_and_refusals_count_as_locked(
    login: AuthenticateUser, monitor: RecordingLoginMonitor, alice: Registered
) -> None:
    for _ in range(5):
        await try_login(login, "alice@example.com", WRONG)
    assert monitor.lockouts == {"account": 1}

    for _ in range(3):
        await try_login(login, "alice@example.com", PASSWORD)  # refused while locked out

    assert monitor.outcomes == {"invalid": 5, "locked": 3}
    assert monitor.lockouts == {"account": 1}


async def test_a_lockout_after_the_first_one_ended_is_counted_again(
    login: AuthenticateUser, monitor: RecordingLoginMonitor, alice: Registered, clock: ManualClock
) -> None:
    for _ in range(5):
        await try_login(login, "alice@example.com", WRONG)
    clock.advance(timedelta(minutes=16))  # the first lockout (15 minutes) is over
    for _ in range(5):  # counted on admission now (the account has failures on record)
        await try_login(login, "alice@example.com", WRONG)

    assert monitor.lockouts == {"account": 2}


async def test_a_right_password_that_lifts_the_lockout_it_started_counts_no_lockout(
    login: AuthenticateUser, monitor: RecordingLoginMonitor, alice: Registered, clock: ManualClock
) -> None:
    """Once an account has failures on record, an attempt is counted on admission, before
    its hash: the fifth one locks the account then, and its right password unlocks it at
    once. No one was ever refused: no lockout took effect."""
    for _ in range(5):
        await try_login(login, "alice@example.com", WRONG)
    clock.advance(timedelta(minutes=16))
    for _ in range(4):
        await try_login(login, "alice@example.com", WRONG)
    await try_login(login, "alice@example.com", PASSWORD)

    assert monitor.outcomes["success"] == 1
    assert monitor.lockouts == {"account": 1}


async def test_an_address_lockout_is_counted_in_its_own_scope(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    tokens: JwtTokenService,
    clock: ManualClock,
    monitor: RecordingLoginMonitor,
) -> None:
    spray = LoginLimits(address=ThrottleLimits(max_failures=3))
    login = monitored(database, hasher, tokens, clock, monitor, spray)

    for n in range(3):  # three accounts, one guess each, from one address
        await try_login(login, f"victim{n}@example.com", WRONG)

    assert monitor.lockouts == {"address": 1}
    assert monitor.outcomes == {"invalid": 3}


async def test_a_burst_of_guesses_at_a_clean_account_counts_each_lockout_once(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    tokens: JwtTokenService,
    clock: ManualClock,
    monitor: RecordingLoginMonitor,
    alice: Registered,
) -> None:
    """All in flight before any failed, so each failure is counted after its hash: the
    third locks the address, the fifth the account, and the failures that come after a
    lockout (counted while it lasts, which changes nothing) start no other."""
    login = monitored(
        database, hasher, tokens, clock, monitor, LoginLimits(address=ThrottleLimits(3))
    )

    await asyncio.gather(*(try_login(login, "alice@example.com", WRONG) for _ in range(10)))

    assert monitor.outcomes == {"invalid": 10}
    assert monitor.lockouts == {"account": 1, "address": 1}


async def test_refused_input_is_no_login_outcome(
    login: AuthenticateUser, monitor: RecordingLoginMonitor
) -> None:
    with pytest.raises(ValidationFailed):
        await login(AuthenticateCommand("alice@example.com", "x" * 100_000, ORIGIN))

    assert not monitor.outcomes
