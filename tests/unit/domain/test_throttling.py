"""The throttling policy on its own: windows, lockouts that double up to a cap, streaks
that are forgotten, and the keys that say what is counted."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neodyme_domain.throttling import (
    ThrottleLimits,
    ThrottleState,
    account_key,
    address_key,
    longest_wait,
    register_failure,
    reset_key,
    starts_lockout,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LIMITS = ThrottleLimits()  # 5 failures in 15 minutes; lockouts 15, 30, 60, 60... minutes
KEY = "account:alice@example.com"


def fail(times: int, at: datetime, state: ThrottleState | None = None) -> ThrottleState:
    for _ in range(times):
        state = register_failure(state, KEY, at, LIMITS)
    assert state is not None
    return state


def test_failures_below_the_limit_lock_nothing() -> None:
    state = fail(4, T0)

    assert (state.key, state.failures) == (KEY, 4)
    assert not state.is_locked(T0)
    assert state.retry_after(T0) is None


def test_the_fifth_failure_in_the_window_locks_for_the_first_lockout() -> None:
    state = fail(4, T0)

    state = register_failure(state, KEY, T0 + timedelta(minutes=14), LIMITS)

    assert state.is_locked(T0 + timedelta(minutes=14))
    assert state.locked_until == T0 + timedelta(minutes=29)
    assert state.retry_after(T0 + timedelta(minutes=14)) == 15 * 60
    assert state.lockouts == 1


def test_retry_after_is_rounded_up_to_a_whole_second() -> None:
    state = fail(5, T0)

    assert state.retry_after(T0 + timedelta(minutes=14, seconds=59, microseconds=1)) == 1
    assert state.retry_after(T0 + timedelta(minutes=1, microseconds=500)) == 14 * 60
    assert state.retry_after(T0 + timedelta(minutes=15)) is None


def test_failures_outside_the_window_start_a_new_count() -> None:
    state = fail(4, T0)

    state = register_failure(state, KEY, T0 + timedelta(minutes=15), LIMITS)

    assert state.failures == 1
    assert state.window_start == T0 + timedelta(minutes=15)
    assert not state.is_locked(T0 + timedelta(minutes=15))


def test_failures_during_a_lockout_are_not_counted() -> None:
    locked = fail(5, T0)

    again = fail(20, T0 + timedelta(minutes=5), locked)

    assert again == locked


@pytest.mark.parametrize(
    ("lockout", "minutes"), [(1, 15), (2, 30), (3, 60), (4, 60), (10, 60), (1000, 60)]
)
def test_consecutive_lockouts_double_up_to_the_cap(lockout: int, minutes: int) -> None:
    assert LIMITS.lockout(lockout) == timedelta(minutes=minutes)


def test_a_streak_of_lockouts_grows_each_time_the_lock_is_earned_again() -> None:
    now, state, lengths = T0, None, []
    for _ in range(5):
        state = fail(5, now, state)
        assert state.locked_until is not None
        lengths.append(state.locked_until - now)
        now = state.locked_until  # the attacker comes back the moment the lock ends

    assert lengths == [timedelta(minutes=m) for m in (15, 30, 60, 60, 60)]


def test_the_streak_is_forgotten_an_hour_after_the_last_lockout_ended() -> None:
    state = fail(5, T0)
    assert state.locked_until is not None
    ended = state.locked_until

    still_remembered = fail(5, ended + timedelta(minutes=59), state)
    forgotten = fail(5, ended + LIMITS.max_lockout, state)

    assert still_remembered.lockouts == 2
    assert forgotten.lockouts == 1
    assert forgotten.locked_until == ended + LIMITS.max_lockout + LIMITS.first_lockout


def test_a_state_expires_when_nothing_in_it_still_matters() -> None:
    counting = fail(3, T0)
    locked = fail(5, T0)

    assert counting.expires_at == T0 + LIMITS.window
    assert locked.locked_until is not None
    assert locked.expires_at == locked.locked_until + LIMITS.max_lockout
    assert not locked.is_expired(locked.expires_at - timedelta(microseconds=1))
    assert locked.is_expired(locked.expires_at)


def test_longest_wait_is_the_longest_lockout_among_the_states() -> None:
    short = fail(5, T0)
    long = fail(5, T0 + timedelta(minutes=10))
    unlocked = fail(1, T0)

    assert longest_wait(T0 + timedelta(minutes=10), short, long, unlocked, None) == 15 * 60
    assert longest_wait(T0, unlocked, None) is None


@pytest.mark.parametrize(
    ("limits", "problem"),
    [
        ({"max_failures": 0}, "max_failures must be at least 1"),
        ({"window": timedelta(0)}, "window and first_lockout must be positive"),
        ({"first_lockout": timedelta(seconds=-1)}, "window and first_lockout must be positive"),
        (
            {"first_lockout": timedelta(hours=2), "max_lockout": timedelta(hours=1)},
            "max_lockout must not be shorter than first_lockout",
        ),
    ],
)
def test_limits_that_make_no_sense_are_refused_saying_why(
    limits: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=f"^{problem}$"):
        ThrottleLimits(**limits)  # type: ignore[arg-type]


def test_after_a_lockout_a_failure_as_its_window_closes_starts_a_new_count() -> None:
    locked = fail(5, T0)
    assert locked.locked_until is not None
    ended = locked.locked_until
    counting = fail(4, ended, locked)  # the window that opened when the lockout ended

    state = register_failure(counting, KEY, ended + LIMITS.window, LIMITS)

    assert (state.window_start, state.failures) == (ended + LIMITS.window, 1)
    assert not state.is_locked(ended + LIMITS.window)
    assert state.lockouts == 1  # the streak is remembered all the same


def test_a_lockout_starts_with_the_failure_that_earns_it_and_only_then() -> None:
    four = fail(4, T0)
    five = register_failure(four, KEY, T0, LIMITS)
    six = register_failure(five, KEY, T0, LIMITS)
    single = ThrottleLimits(max_failures=1)
    first = register_failure(None, KEY, T0, single)

    assert starts_lockout(four, five, T0)
    assert not starts_lockout(five, six, T0)
    assert not starts_lockout(fail(3, T0), four, T0)
    assert starts_lockout(None, first, T0)
    assert not starts_lockout(None, fail(1, T0), T0)


# --- properties ----------------------------------------------------------------------------

limits_strategy = st.builds(
    ThrottleLimits,
    max_failures=st.integers(1, 8),
    window=st.integers(1, 3600).map(lambda s: timedelta(seconds=s)),
    first_lockout=st.integers(1, 600).map(lambda s: timedelta(seconds=s)),
    max_lockout=st.integers(600, 7200).map(lambda s: timedelta(seconds=s)),
)
gaps = st.lists(st.integers(0, 5000).map(lambda ms: timedelta(milliseconds=ms)), max_size=60)


@given(limits=limits_strategy, gaps=gaps)
def test_any_sequence_of_failures_keeps_the_invariants(
    limits: ThrottleLimits, gaps: list[timedelta]
) -> None:
    state: ThrottleState | None = None
    now = T0
    for gap in gaps:
        now += gap
        before = state
        state = register_failure(state, KEY, now, limits)

        assert 0 <= state.failures < limits.max_failures
        assert state.expires_at > now
        if state.is_locked(now):
            wait = state.retry_after(now)
            assert wait is not None
            assert 1 <= wait <= limits.max_lockout.total_seconds()
        if before is not None and before.is_locked(now):
            assert state == before  # nothing is counted during a lockout


@given(limits=limits_strategy, spread=st.integers(0, 10**6))
def test_max_failures_inside_one_window_always_lock(limits: ThrottleLimits, spread: int) -> None:
    step = min(timedelta(microseconds=spread), limits.window / (limits.max_failures + 1))
    state: ThrottleState | None = None
    for n in range(limits.max_failures):
        state = register_failure(state, KEY, T0 + step * n, limits)
    last = T0 + step * (limits.max_failures - 1)

    assert state is not None
    assert state.locked_until == last + limits.first_lockout


# --- keys ----------------------------------------------------------------------------------


def test_an_account_key_names_the_normalised_address_whether_or_not_it_exists() -> None:
    assert account_key("  Alice@Example.COM ") == "account:alice@example.com"
    assert account_key("alice@example.com") == account_key("ALICE@EXAMPLE.COM")


def test_input_that_is_no_address_is_keyed_by_a_digest_never_stored_as_given() -> None:
    junk = "not an address\n" + "x" * 5000

    key = account_key(junk)

    assert key.startswith("account:?")
    assert len(key) == len("account:?") + 32
    assert set(key.removeprefix("account:?")) <= set("0123456789abcdef")
    assert key == account_key(junk.upper())  # lower-cased like an address
    assert key != account_key("another one")


def test_junk_is_keyed_by_the_digest_of_its_trimmed_lower_cased_utf8_form() -> None:
    # Keys are stored (the throttle table outlives a restart): their form must not drift.
    expected = hashlib.sha256("stra\u00dfe, no address".encode()).hexdigest()[:32]

    assert account_key("  STRA\u00dfE, No Address\t") == "account:?" + expected


def test_junk_that_has_no_utf8_form_is_keyed_too() -> None:
    # In-process callers can pass a lone surrogate; its key is that of its raw code point.
    key = account_key("junk \ud800")

    assert key.startswith("account:?")
    assert key != account_key("junk \ud801")


@pytest.mark.parametrize(
    ("client_ip", "expected"),
    [
        ("203.0.113.9", "address:203.0.113.9"),
        ("::ffff:203.0.113.9", "address:203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "address:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "address:2001:db8:1:2::/64"),
        ("testclient", "address:testclient"),
        ("n" * 100, "address:" + "n" * 64),  # a name of any length is stored bounded
        (None, None),
        ("", None),
    ],
)
def test_an_address_key_groups_an_ipv6_subscriber_by_its_64(
    client_ip: str | None, expected: str | None
) -> None:
    assert address_key(client_ip) == expected


def test_reset_requests_are_counted_apart_from_login_failures() -> None:
    assert reset_key("203.0.113.9") == "reset:203.0.113.9"
    assert reset_key(None) is None
