"""Login throttling through the use cases: failed logins lock an account (known or not,
alike) and a client address; forgot-password is limited per address; successes,
registrations and in-process callers without an address are never counted against one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import (
    AccountInactive,
    DomainError,
    InvalidCredentials,
    TooManyAttempts,
)
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin
from neodyme_domain.throttling import LoginLimits, ThrottleLimits
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    Authenticated,
    AuthenticateUser,
    PasswordResetRequest,
    PurgeExpiredThrottles,
    RegisterCommand,
    Registered,
    RegisterUser,
    RequestPasswordReset,
)
from tests.unit.domain.helpers import PASSWORD, counts, events_of, set_active

ORIGIN = RequestOrigin(client_ip="203.0.113.9", user_agent="pytest")
ELSEWHERE = RequestOrigin(client_ip="198.51.100.7", user_agent="pytest")
WRONG = "WrongPassword123!"
MINUTE = timedelta(minutes=1)


async def attempt(
    authenticate: AuthenticateUser, email: str, password: str, origin: RequestOrigin = ORIGIN
) -> Authenticated | DomainError:
    try:
        return await authenticate(AuthenticateCommand(email, password, origin))
    except DomainError as error:
        return error


async def locked_out(
    authenticate: AuthenticateUser, email: str, origin: RequestOrigin = ORIGIN
) -> TooManyAttempts:
    """Five wrong passwords, each answered as such; returns the sixth attempt's refusal."""
    for _ in range(5):
        assert isinstance(await attempt(authenticate, email, WRONG, origin), InvalidCredentials)
    refused = await attempt(authenticate, email, WRONG, origin)
    assert isinstance(refused, TooManyAttempts), refused
    return refused


Throttled = Callable[[LoginLimits], AuthenticateUser]


@pytest.fixture
def throttled(
    database: MemoryDatabase, hasher: Argon2Hasher, tokens: JwtTokenService, clock: ManualClock
) -> Throttled:
    """Builds an AuthenticateUser wired like ``authenticate_user``, but with other limits."""

    def build(limits: LoginLimits) -> AuthenticateUser:
        return AuthenticateUser(
            uow=InMemoryUnitOfWork(database),
            hasher=hasher,
            tokens=tokens,
            clock=clock,
            limits=limits,
        )

    return build


# --- per account -----------------------------------------------------------------------------


async def test_five_failures_lock_a_known_and_an_unknown_address_alike(
    authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    known = await locked_out(authenticate_user, "alice@example.com")
    unknown = await locked_out(authenticate_user, "nobody@example.com", ELSEWHERE)

    assert known.code == unknown.code == "TOO_MANY_ATTEMPTS"
    assert known.message == unknown.message
    assert known.details == unknown.details == {"retry_after": 15 * 60}
    assert known.retry_after == unknown.retry_after == 15 * 60


async def test_a_known_and_an_unknown_address_leave_the_same_traces_in_the_store(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    await attempt(authenticate_user, "alice@example.com", WRONG, ORIGIN)
    await attempt(authenticate_user, "nobody@example.com", WRONG, ELSEWHERE)

    states = database.state.throttle
    assert states["account:alice@example.com"].failures == 1
    assert states["account:nobody@example.com"].failures == 1
    assert states["address:203.0.113.9"].failures == 1
    assert states["address:198.51.100.7"].failures == 1


async def test_during_a_lockout_even_the_right_password_is_refused(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    await locked_out(authenticate_user, "alice@example.com")
    before = counts(database)

    refused = await attempt(authenticate_user, "alice@example.com", PASSWORD)

    assert isinstance(refused, TooManyAttempts)
    assert counts(database).refresh_tokens == before.refresh_tokens
    assert events_of(database, "user_login") == []


async def test_a_refused_attempt_is_recorded_but_does_not_lengthen_the_lockout(
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await locked_out(authenticate_user, "alice@example.com")
    for _ in range(10):
        clock.advance(MINUTE)
        refused = await attempt(authenticate_user, "alice@example.com", WRONG)
        assert isinstance(refused, TooManyAttempts)

    assert refused.retry_after == 5 * 60
    assert refused.context == {"email": "alice@example.com", "reason": "throttled"}
    reasons = [event.data["reason"] for event in events_of(database, "login_failed")]
    assert reasons == ["invalid_password"] * 5 + ["throttled"] * 11
    assert events_of(database, "login_failed")[-1].occurred_at == clock.now()
    assert {event.user_id for event in events_of(database, "login_failed")} == {alice.user.id}


async def test_when_the_lockout_ends_the_right_password_logs_in(
    authenticate_user: AuthenticateUser, alice: Registered, clock: ManualClock
) -> None:
    refused = await locked_out(authenticate_user, "alice@example.com")

    clock.advance(timedelta(seconds=refused.retry_after - 1))
    assert isinstance(
        await attempt(authenticate_user, "alice@example.com", PASSWORD), TooManyAttempts
    )
    clock.advance(timedelta(seconds=1))
    result = await attempt(authenticate_user, "alice@example.com", PASSWORD)

    assert isinstance(result, Authenticated)


async def test_repeated_lockouts_double_the_wait_up_to_an_hour(
    authenticate_user: AuthenticateUser, alice: Registered, clock: ManualClock
) -> None:
    waits = []
    for _ in range(4):
        refused = await locked_out(authenticate_user, "alice@example.com")
        waits.append(refused.retry_after)
        clock.advance(timedelta(seconds=refused.retry_after))

    assert waits == [15 * 60, 30 * 60, 60 * 60, 60 * 60]


async def test_a_success_resets_the_count_and_the_streak(
    authenticate_user: AuthenticateUser, alice: Registered, clock: ManualClock
) -> None:
    refused = await locked_out(authenticate_user, "alice@example.com")
    clock.advance(timedelta(seconds=refused.retry_after))
    for _ in range(4):
        await attempt(authenticate_user, "alice@example.com", WRONG)

    assert isinstance(
        await attempt(authenticate_user, "alice@example.com", PASSWORD), Authenticated
    )

    for _ in range(4):  # counted from zero again
        assert isinstance(
            await attempt(authenticate_user, "alice@example.com", WRONG), InvalidCredentials
        )
    assert isinstance(
        await attempt(authenticate_user, "alice@example.com", PASSWORD), Authenticated
    )
    again = await locked_out(authenticate_user, "alice@example.com")
    assert again.retry_after == 15 * 60  # the first lockout of a new streak


async def test_spellings_of_one_address_share_one_count(
    authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    for typed in [
        "alice@example.com",
        "ALICE@example.com",
        " Alice@Example.com",
        "alice@EXAMPLE.COM",
    ]:
        await attempt(authenticate_user, typed, WRONG)
    await attempt(authenticate_user, "aLiCe@example.com", WRONG)

    assert isinstance(
        await attempt(authenticate_user, "ALICE@EXAMPLE.COM", PASSWORD), TooManyAttempts
    )


async def test_a_burst_of_correct_logins_is_never_throttled(
    authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    outcomes = await asyncio.gather(
        *(attempt(authenticate_user, "alice@example.com", PASSWORD) for _ in range(20))
    )

    assert all(isinstance(o, Authenticated) for o in outcomes), outcomes


async def test_a_burst_of_guesses_at_a_clean_account_locks_it_once_they_fail(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    # All in flight before any failed: the excess is bounded by the hasher's queue.
    outcomes = await asyncio.gather(
        *(attempt(authenticate_user, "alice@example.com", WRONG) for _ in range(20))
    )

    assert all(isinstance(o, InvalidCredentials) for o in outcomes)
    assert isinstance(
        await attempt(authenticate_user, "alice@example.com", PASSWORD), TooManyAttempts
    )
    assert database.state.throttle["account:alice@example.com"].lockouts == 1


async def test_once_an_account_has_failed_a_burst_of_guesses_cannot_outrun_the_count(
    authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    await attempt(authenticate_user, "alice@example.com", WRONG)

    outcomes = await asyncio.gather(
        *(attempt(authenticate_user, "alice@example.com", WRONG) for _ in range(20))
    )

    assert sum(isinstance(o, InvalidCredentials) for o in outcomes) == 4
    assert sum(isinstance(o, TooManyAttempts) for o in outcomes) == 16


async def test_the_right_password_still_works_while_failures_are_counted_on_admission(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    for _ in range(4):
        await attempt(authenticate_user, "alice@example.com", WRONG)

    # The fifth attempt is counted before its hash, which locks the account; proving the
    # password then deletes the state again.
    assert isinstance(
        await attempt(authenticate_user, "alice@example.com", PASSWORD), Authenticated
    )
    assert "account:alice@example.com" not in database.state.throttle


async def test_a_correct_password_on_an_inactive_account_is_not_a_guessing_failure(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    await set_active(database, alice.user.id, active=False)
    for _ in range(4):
        await attempt(authenticate_user, "alice@example.com", WRONG)

    assert isinstance(
        await attempt(authenticate_user, "alice@example.com", PASSWORD), AccountInactive
    )

    assert "account:alice@example.com" not in database.state.throttle
    assert database.state.throttle["address:203.0.113.9"].failures == 4


async def test_input_that_is_no_address_is_locked_out_like_an_unknown_address(
    authenticate_user: AuthenticateUser, database: MemoryDatabase
) -> None:
    refused = await locked_out(authenticate_user, "not an address")

    assert refused.retry_after == 15 * 60
    [junk] = [key for key in database.state.throttle if key.startswith("account:")]
    assert junk.startswith("account:?")  # a digest: the junk itself is never stored
    assert database.state.throttle[junk].lockouts == 1


async def test_in_process_calls_without_an_address_are_throttled_per_account_only(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    await locked_out(authenticate_user, "alice@example.com", NO_ORIGIN)

    assert set(database.state.throttle) == {"account:alice@example.com"}


# --- per address -----------------------------------------------------------------------------


async def test_the_address_ceiling_stops_spraying_across_many_accounts(
    authenticate_user: AuthenticateUser,
    alice: Registered,
    register_user: RegisterUser,
    clock: ManualClock,
) -> None:
    for n in range(100):  # the default ceiling: one guess each at a hundred accounts
        error = await attempt(authenticate_user, f"victim{n}@example.com", WRONG)
        assert isinstance(error, InvalidCredentials), (n, error)

    refused = await attempt(authenticate_user, "victim100@example.com", WRONG)
    assert isinstance(refused, TooManyAttempts)
    assert refused.retry_after == 15 * 60
    # The whole address is refused, the right password too; other clients are not.
    assert isinstance(
        await attempt(authenticate_user, "alice@example.com", PASSWORD), TooManyAttempts
    )
    assert isinstance(
        await attempt(authenticate_user, "alice@example.com", PASSWORD, ELSEWHERE), Authenticated
    )
    # Registration is never throttled.
    registered = await register_user(
        RegisterCommand("newcomer@example.com", "New Comer", PASSWORD, origin=ORIGIN)
    )
    assert registered.user.email.value == "newcomer@example.com"

    clock.advance(timedelta(minutes=15))
    assert isinstance(
        await attempt(authenticate_user, "alice@example.com", PASSWORD), Authenticated
    )


async def test_successful_logins_are_never_counted_against_the_address(
    throttled: Throttled, database: MemoryDatabase, alice: Registered
) -> None:
    authenticate = throttled(LoginLimits(address=ThrottleLimits(max_failures=3)))

    for _ in range(10):
        assert isinstance(await attempt(authenticate, "alice@example.com", PASSWORD), Authenticated)

    assert "address:203.0.113.9" not in database.state.throttle


async def test_limits_come_from_the_constructor(
    throttled: Throttled, clock: ManualClock, alice: Registered
) -> None:
    limits = LoginLimits(
        account=ThrottleLimits(
            max_failures=2, first_lockout=timedelta(seconds=30), max_lockout=timedelta(seconds=45)
        )
    )
    authenticate = throttled(limits)

    waits = []
    for _ in range(3):
        for _ in range(2):
            assert isinstance(
                await attempt(authenticate, "alice@example.com", WRONG), InvalidCredentials
            )
        refused = await attempt(authenticate, "alice@example.com", WRONG)
        assert isinstance(refused, TooManyAttempts)
        waits.append(refused.retry_after)
        clock.advance(timedelta(seconds=refused.retry_after))

    assert waits == [30, 45, 45]


# --- forgot-password -------------------------------------------------------------------------


async def test_forgot_password_is_limited_per_client_address(
    request_password_reset: RequestPasswordReset,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    for _ in range(100):
        await request_password_reset(PasswordResetRequest("alice@example.com", ORIGIN))
    before = counts(database)

    with pytest.raises(TooManyAttempts) as raised:
        await request_password_reset(PasswordResetRequest("alice@example.com", ORIGIN))

    assert raised.value.retry_after == 15 * 60
    assert raised.value.context == {"key": "reset:203.0.113.9"}
    assert counts(database) == before  # no e-mail, no event: nothing happened
    await request_password_reset(PasswordResetRequest("alice@example.com", ELSEWHERE))
    await request_password_reset(PasswordResetRequest("alice@example.com", NO_ORIGIN))
    clock.advance(timedelta(minutes=15))
    await request_password_reset(PasswordResetRequest("alice@example.com", ORIGIN))


async def test_forgot_password_and_failed_logins_are_counted_apart(
    request_password_reset: RequestPasswordReset, throttled: Throttled, database: MemoryDatabase
) -> None:
    authenticate = throttled(LoginLimits(address=ThrottleLimits(max_failures=2)))
    for n in range(2):
        await attempt(authenticate, f"victim{n}@example.com", WRONG)
    assert isinstance(await attempt(authenticate, "victim9@example.com", WRONG), TooManyAttempts)

    await request_password_reset(PasswordResetRequest("victim1@example.com", ORIGIN))

    assert database.state.throttle["reset:203.0.113.9"].failures == 1


# --- housekeeping ----------------------------------------------------------------------------


async def test_expired_states_are_purged_and_live_ones_kept(
    authenticate_user: AuthenticateUser, database: MemoryDatabase, clock: ManualClock
) -> None:
    await attempt(authenticate_user, "old@example.com", WRONG, ORIGIN)
    clock.advance(timedelta(minutes=15))
    await attempt(authenticate_user, "new@example.com", WRONG, ELSEWHERE)

    purged = await PurgeExpiredThrottles(uow=InMemoryUnitOfWork(database), clock=clock)()

    assert purged == 2
    assert set(database.state.throttle) == {"account:new@example.com", "address:198.51.100.7"}
