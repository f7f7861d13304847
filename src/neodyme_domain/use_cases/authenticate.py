"""Log in with e-mail and password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from neodyme_domain.errors import (
    AccountInactive,
    InvalidCredentials,
    MfaRequired,
    TooManyAttempts,
    ValidationFailed,
)
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.mfa.model import MFA_TOKEN_TTL, MfaChallenge, MfaMethod
from neodyme_domain.model import Email, User
from neodyme_domain.passwords import check_length_bound
from neodyme_domain.ports import (
    Clock,
    LockoutScope,
    LoginMonitor,
    LoginOutcome,
    PasswordHasher,
    TokenService,
    UnitOfWork,
)
from neodyme_domain.sessions.issue import issue_pair
from neodyme_domain.throttling import (
    DEFAULT_LOGIN_LIMITS,
    LoginLimits,
    account_key,
    address_key,
    longest_wait,
    register_failure,
    starts_lockout,
)
from neodyme_domain.tokens.model import TokenPair, digest, new_one_time_token


@dataclass(frozen=True, slots=True)
class AuthenticateCommand:
    email: str
    password: str
    origin: RequestOrigin = NO_ORIGIN


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    tokens: TokenPair


@dataclass(frozen=True, slots=True)
class _Admission:
    user: User | None
    account: str
    """The attempt's throttle keys, worked out once per attempt."""
    address: str | None
    counted: bool = False
    """True if the attempt was already counted against the account on admission."""
    locks_account: bool = False
    """Counting on admission locked the account out: reported if the attempt then fails
    (a right password lifts the lockout at once, so it never took effect)."""


class _Unmonitored:
    def login(self, outcome: LoginOutcome) -> None:
        pass

    def lockout(self, scope: LockoutScope) -> None:
        pass


class AuthenticateUser:
    """Unknown e-mail and wrong password are indistinguishable to the caller: the same
    error, and (through a dummy verify) the same time. ACCOUNT_INACTIVE is only revealed to
    someone who proved they know the password. A hash made with outdated parameters is
    replaced on the way through.

    Throttling (``neodyme_domain.throttling``) counts failed logins per account (an
    unknown address like a real one) and per client address. Before any hashing, a locked
    account or address is answered TOO_MANY_ATTEMPTS, known and unknown addresses alike.
    A failure is counted against both keys in the transaction that records it; a success
    deletes the account's state; a right password on an inactive account is no guessing
    failure (not counted, and it resets the account like a success). Known and unknown
    addresses go through the same transactions with the same reads and writes.

    Concurrent attempts: counting after the hash lets attempts that are all in flight at
    once pass one check before any of them failed. For an account with a clean record
    that is accepted, so that a burst of correct logins is never throttled; the excess of
    such a burst is bounded by how many hashes can be in flight (the hasher's bounded
    queue). Once an account has a failure on record, each attempt is counted on admission
    instead, before its hash, so that no burst can outrun the count; the success that
    follows a right password still deletes the state.

    With a second factor on (``User.mfa_enabled``), a right password gets no tokens but
    MFA_REQUIRED with a challenge (``mfa_token``) for ``VerifyMfa``; it is answered only
    after the password proved right, so it tells nothing to someone who does not know it,
    and the account's throttle state is not cleared by it.

    ``new_device_window``: a sign-in from a device (user agent and address) the account
    has not used within it is told to the user by e-mail (``issue_pair``); None: never.

    ``monitor`` is told each outcome (success, invalid, locked, inactive) and each lockout
    that takes effect, once its transaction committed: the service's metrics.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        tokens: TokenService,
        clock: Clock,
        limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
        reader: UnitOfWork | None = None,
        monitor: LoginMonitor | None = None,
        new_device_window: timedelta | None = None,
    ) -> None:
        self._uow = uow
        self._reader = reader or uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._limits = limits
        self._monitor: LoginMonitor = _Unmonitored() if monitor is None else monitor
        self._new_device_window = new_device_window

    async def __call__(self, cmd: AuthenticateCommand) -> Authenticated:
        check_length_bound(cmd.password)  # input refused before any attempt: no outcome
        try:
            authenticated = await self._attempt(cmd)
        except InvalidCredentials:
            self._monitor.login("invalid")
            raise
        except TooManyAttempts:
            self._monitor.login("locked")
            raise
        except AccountInactive:
            self._monitor.login("inactive")
            raise
        except MfaRequired:
            self._monitor.login("mfa_required")
            raise
        self._monitor.login("success")
        return authenticated

    async def _password_matches(self, user: User, password: str) -> bool:
        """An account without a password (made by another provider) takes as long to
        refuse as a wrong password: the timing tells nobody which accounts have none."""
        if user.has_password:
            return await self._hasher.verify(user.hashed_password, password)
        await self._hasher.verify_dummy(password)
        return False

    async def _attempt(self, cmd: AuthenticateCommand) -> Authenticated:
        # The admission (throttle check and lookup) and the writes are short transactions:
        # no connection or lock is held while the hasher works for tens of milliseconds.
        admission = await self._admit(cmd)
        user = admission.user
        if user is None:
            await self._hasher.verify_dummy(cmd.password)
            await self._fail(cmd, admission, "unknown_email")
            raise InvalidCredentials(context={"email": cmd.email, "reason": "unknown_email"})
        if not await self._password_matches(user, cmd.password):
            await self._fail(cmd, admission, "invalid_password")
            raise InvalidCredentials(context={"user_id": user.id, "reason": "invalid_password"})
        if not user.is_active:
            await self._refuse_inactive(cmd, user, admission)

        rehashed = (
            await self._hasher.hash(cmd.password)
            if self._hasher.needs_rehash(user.hashed_password)
            else None
        )
        now = self._clock.now()
        async with self._uow as uow:
            # The lookup's copy is stale by now. If a password change, reset or deactivation
            # committed while we hashed (the token version moved), the password just verified
            # may no longer be the account's, and a session issued now would outlive the
            # revocation that was meant to end them all: its refresh token did not exist yet.
            current = await uow.users.get(user.id)
            if current is not None and current.token_version == user.token_version:
                # Never write the lookup's copy back (it would undo what committed
                # meanwhile): upgrade the stored hash, only if it is still the one verified.
                if rehashed is not None and current.hashed_password == user.hashed_password:
                    current.replace_password_hash(rehashed, now)
                    await uow.users.update(current)
                if current.mfa_enabled:
                    required = await second_factor_required(uow, current, now)
                    await uow.commit()
                    raise required
                await uow.throttle.delete(admission.account)
                await uow.events.record(
                    SecurityEvent.of("user_login", now, current.id, cmd.origin, email=cmd.email)
                )
                pair = await issue_pair(
                    uow,
                    self._tokens,
                    current,
                    now=now,
                    origin=cmd.origin,
                    new_device_window=self._new_device_window,
                )
                await uow.commit()
                return Authenticated(user=current, tokens=pair)
        if current is not None and not current.is_active:
            await self._refuse_inactive(cmd, user, admission)
        await self._fail(cmd, admission, "changed_meanwhile")
        raise InvalidCredentials(context={"user_id": user.id, "reason": "changed_meanwhile"})

    async def _admit(self, cmd: AuthenticateCommand) -> _Admission:
        """Refuse a throttled attempt; else look the user up, counting the attempt now if
        the account has failures on record. The lookup happens either way, so that a
        refusal costs the same for known and unknown addresses.

        Most logins have a clean record (no state for the account or the address): a
        snapshot read without locks (``reader``) finds that out and looks the user up
        beside it, in three database round trips instead of eight on PostgreSQL. A state
        committed just after the snapshot is treated as if the attempt had come a moment
        earlier: a clean-record attempt is counted after its hash anyway.
        """
        email = _parse(cmd.email)
        account = account_key(cmd.email)
        address = address_key(cmd.origin.client_ip)
        # Sorted ("account:" < "address:"), as the port asks of several keys.
        keys = [key for key in (account, address) if key is not None]
        async with self._reader as reader:
            if not await reader.throttle.any_recorded(keys):
                user = await reader.users.get_by_email(email) if email else None
                return _Admission(user, account=account, address=address)
        async with self._uow as uow:
            now = self._clock.now()
            states = [await uow.throttle.get(key) for key in keys]
            user = await uow.users.get_by_email(email) if email else None
            wait = longest_wait(now, *states)
            if wait is not None:
                await uow.events.record(_failed_event(cmd, user, "throttled", now))
                await uow.commit()
                raise TooManyAttempts(
                    retry_after=wait, context={"email": cmd.email, "reason": "throttled"}
                )
            account_state = states[0]
            if account_state is None or account_state.is_expired(now):
                return _Admission(user, account=account, address=address)
            counted = register_failure(account_state, account, now, self._limits.account)
            await uow.throttle.put(counted)
            await uow.commit()
            # The account was not locked (refused above): a lock now is this attempt's.
            return _Admission(
                user,
                account=account,
                address=address,
                counted=True,
                locks_account=counted.is_locked(now),
            )

    async def _fail(self, cmd: AuthenticateCommand, admission: _Admission, reason: str) -> None:
        """Record a failed guess and count it (against the account only if the admission
        did not already)."""
        account, address = admission.account, admission.address
        lockouts: list[LockoutScope] = ["account"] if admission.locks_account else []
        async with self._uow as uow:
            now = self._clock.now()
            if not admission.counted:
                state = await uow.throttle.get(account)
                after = register_failure(state, account, now, self._limits.account)
                if starts_lockout(state, after, now):
                    lockouts.append("account")
                await uow.throttle.put(after)
            if address is not None:
                state = await uow.throttle.get(address)
                after = register_failure(state, address, now, self._limits.address)
                if starts_lockout(state, after, now):
                    lockouts.append("address")
                await uow.throttle.put(after)
            await uow.events.record(_failed_event(cmd, admission.user, reason, now))
            await uow.commit()
        for scope in lockouts:
            self._monitor.lockout(scope)

    async def _refuse_inactive(
        self, cmd: AuthenticateCommand, user: User, admission: _Admission
    ) -> NoReturn:
        async with self._uow as uow:
            now = self._clock.now()
            await uow.throttle.delete(admission.account)  # the password was right
            await uow.events.record(_failed_event(cmd, user, "inactive", now))
            await uow.commit()
        raise AccountInactive(context={"user_id": user.id})


async def second_factor_required(uow: UnitOfWork, user: User, now: datetime) -> MfaRequired:
    """The answer to a first factor that proved right for an account with a second one
    (a password, or another provider's sign-in): a challenge stored in ``uow`` (commit
    it), and the methods that can complete it."""
    mfa_token = await _challenge(uow, user, now)
    methods = [MfaMethod.TOTP, MfaMethod.RECOVERY_CODES]
    if await uow.passkeys.count_for(user.id):
        methods.append(MfaMethod.PASSKEY)
    return MfaRequired(
        mfa_token=mfa_token,
        methods=[method.value for method in methods],
        expires_in=int(MFA_TOKEN_TTL.total_seconds()),
        context={"user_id": user.id},
    )


async def _challenge(uow: UnitOfWork, user: User, now: datetime) -> str:
    """A login waiting for its second factor: the token goes to the client, its digest
    into the store. The account's throttle state stays: only a completed second factor
    clears it (a right password alone must not reset the count of wrong codes). Expired
    challenges go as a new one comes (an indexed range): no housekeeping job needed."""
    await uow.mfa_challenges.purge_expired(now)
    token = new_one_time_token()
    await uow.mfa_challenges.add(
        MfaChallenge(
            token_digest=digest(token),
            user_id=user.id,
            user_stamp=user.token_version,
            created_at=now,
            expires_at=now + MFA_TOKEN_TTL,
        )
    )
    return token


def _failed_event(
    cmd: AuthenticateCommand, user: User | None, reason: str, now: datetime
) -> SecurityEvent:
    return SecurityEvent.of(
        "login_failed", now, user.id if user else None, cmd.origin, email=cmd.email, reason=reason
    )


def _parse(raw_email: str) -> Email | None:
    try:
        return Email.parse(raw_email)
    except ValidationFailed:
        return None  # no such account can exist; answered like any unknown address
