"""Throttling of guessable requests: a pure policy, kept per key by the ``LoginThrottle`` port.

A key names what is counted: one account (``account_key``), one client address
(``address_key``), or one address's password-reset requests (``reset_key``). Each key's
state moves through a small state machine, driven only by ``register_failure`` and the
caller's clock:

- Failures are counted inside a window of ``limits.window`` that opens with the first
  failure; a failure after the window closed opens a new one.
- The ``max_failures``-th failure inside one window starts a lockout. While it lasts,
  every attempt is refused with ``retry_after`` and nothing more is counted. Its length
  doubles with each lockout of the same streak (``first_lockout``, then twice that, ...),
  capped at ``max_lockout``. When it ends, a new window opens.
- The state expires (the streak is forgotten, as if the key had never failed) once its
  window has closed and ``max_lockout`` has passed since the end of the last lockout:
  ``expires_at``. Expired states may be deleted by the store at any time.
- A successful login deletes the account's key: the streak starts over.

The defaults (5 failures in 15 minutes; lockouts of 15, 30, then 60 minutes) make
guessing one account's password cost an hour per 5 guesses after the first 15, while a
user who mistypes is locked out for at most 15 minutes and can always reset the password.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from neodyme_domain.errors import ValidationFailed
from neodyme_domain.model import Email

IPV6_PREFIX = 64
"""An IPv6 client is counted by its /64: one subscriber usually holds a whole /64, and
counting each of its 2**64 addresses apart would make the per-address ceiling useless."""

_MAX_DOUBLINGS = 32  # far beyond any cap; keeps 2**n from overflowing a timedelta


@dataclass(frozen=True, slots=True)
class ThrottleLimits:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    first_lockout: timedelta = timedelta(minutes=15)
    max_lockout: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        if min(self.window, self.first_lockout) <= timedelta(0):
            raise ValueError("window and first_lockout must be positive")
        if self.max_lockout < self.first_lockout:
            raise ValueError("max_lockout must not be shorter than first_lockout")

    def lockout(self, number: int) -> timedelta:
        """How long the ``number``-th consecutive lockout (1, 2, ...) lasts."""
        doublings = min(max(number, 1) - 1, _MAX_DOUBLINGS)
        return min(self.first_lockout * (1 << doublings), self.max_lockout)


ACCOUNT_LIMITS = ThrottleLimits()
ADDRESS_LIMITS = ThrottleLimits(max_failures=100)
"""Per client address: a ceiling against spraying passwords across many accounts (and
against floods of password-reset requests)."""


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """The limits of a login: per account, and per client address."""

    account: ThrottleLimits = ACCOUNT_LIMITS
    address: ThrottleLimits = ADDRESS_LIMITS


DEFAULT_LOGIN_LIMITS = LoginLimits()


@dataclass(frozen=True, slots=True)
class ThrottleState:
    """What is remembered about one key. ``locked_until`` stays after a lockout ended: it
    dates the streak (see ``expires_at``)."""

    key: str
    window_start: datetime
    failures: int
    lockouts: int
    locked_until: datetime | None
    expires_at: datetime

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def retry_after(self, now: datetime) -> int | None:
        """Whole seconds (rounded up, at least 1) until the lockout ends; None if unlocked."""
        if self.locked_until is None or not self.is_locked(now):
            return None
        return max(1, math.ceil((self.locked_until - now).total_seconds()))


def register_failure(
    state: ThrottleState | None, key: str, now: datetime, limits: ThrottleLimits
) -> ThrottleState:
    """The state after one more failure for ``key`` at ``now``."""
    if state is None or state.is_expired(now):
        state = _state(key, now, 0, 0, None, limits)
    if state.is_locked(now):
        return state  # refused anyway: counting would only lengthen the lockout of a victim
    if now >= state.window_start + limits.window:
        state = replace(state, window_start=now, failures=0)
    failures = state.failures + 1
    if failures < limits.max_failures:
        return _state(
            state.key, state.window_start, failures, state.lockouts, state.locked_until, limits
        )
    lockouts = state.lockouts + 1
    until = now + limits.lockout(lockouts)
    return _state(key, until, 0, lockouts, until, limits)  # the next window opens at the end


def starts_lockout(before: ThrottleState | None, after: ThrottleState, now: datetime) -> bool:
    """True if the failure that made ``after`` of ``before`` (``register_failure``) locked
    the key out: a lockout's start, counted once, not each refusal while it lasts."""
    return after.is_locked(now) and not (before is not None and before.is_locked(now))


def _state(
    key: str,
    window_start: datetime,
    failures: int,
    lockouts: int,
    locked_until: datetime | None,
    limits: ThrottleLimits,
) -> ThrottleState:
    """A state, with the ``expires_at`` its window and last lockout give it: every state
    is built whole here, none with a stand-in expiry for a later step to overwrite."""
    expires = window_start + limits.window
    if locked_until is not None:
        expires = max(expires, locked_until + limits.max_lockout)
    return ThrottleState(key, window_start, failures, lockouts, locked_until, expires)


def longest_wait(now: datetime, *states: ThrottleState | None) -> int | None:
    """The ``retry_after`` of the longest lockout among ``states``; None if none is locked."""
    waits = [wait for s in states if s is not None and (wait := s.retry_after(now)) is not None]
    return max(waits, default=None)


# --- keys ----------------------------------------------------------------------------------


def account_key(raw_email: str) -> str:
    """The key of the account an address names, whether or not it exists: an unknown
    address is counted exactly like a real one. Input that is no address at all (no
    account can have it) is keyed by a digest, so junk of any length or content is never
    stored."""
    try:
        return account_key_of(Email.parse(raw_email))
    except ValidationFailed:
        junk = raw_email.strip().lower().encode(errors="surrogatepass")  # UTF-8, surrogates kept
        return "account:?" + hashlib.sha256(junk).hexdigest()[:32]


def account_key_of(email: Email) -> str:
    """``account_key`` of an address already parsed."""
    return "account:" + email.key


def address_key(client_ip: str | None) -> str | None:
    """The key of a client address (None for in-process callers, which have none)."""
    group = _address_group(client_ip)
    return None if group is None else "address:" + group


def reset_key(client_ip: str | None) -> str | None:
    """The key of one client address's password-reset requests."""
    group = _address_group(client_ip)
    return None if group is None else "reset:" + group


def introspection_key(client_ip: str | None) -> str | None:
    """The key of one client address's failed resource-server authentications."""
    group = _address_group(client_ip)
    return None if group is None else "introspect:" + group


def _address_group(client_ip: str | None) -> str | None:
    if not client_ip:
        return None
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip[:64]  # not an IP (a test client's name): counted as given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Interface((address, IPV6_PREFIX)).network)
    return str(address)
