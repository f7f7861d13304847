"""The second step of a login with two-factor sign-in on: a code completes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from neodyme_domain.errors import InvalidCode, InvalidToken, TooManyAttempts
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.mfa.model import MAX_CODE_FAILURES, MfaChallenge, MfaMethod
from neodyme_domain.mfa.second_factor import SecondFactor, spend
from neodyme_domain.model import User
from neodyme_domain.notices import security_notice
from neodyme_domain.ports import (
    Clock,
    LoginMonitor,
    LoginOutcome,
    SecretBox,
    TokenService,
    TotpAlgorithm,
    UnitOfWork,
)
from neodyme_domain.sessions.sign_in import complete_sign_in
from neodyme_domain.throttling import (
    DEFAULT_LOGIN_LIMITS,
    LoginLimits,
    account_key_of,
    longest_wait,
    register_failure,
)
from neodyme_domain.tokens.model import digest
from neodyme_domain.use_cases.authenticate import Authenticated


@dataclass(frozen=True, slots=True)
class MfaVerification:
    mfa_token: str
    factor: SecondFactor
    origin: RequestOrigin = NO_ORIGIN


class VerifyMfa:
    """Completes the login that ``AuthenticateUser`` answered with MFA_REQUIRED.

    The ``mfa_token`` is good once, for ``MFA_TOKEN_TTL``, and only while the account is
    as it was (active, same ``token_version``: a password change or reset in between kills
    it). A right code spends the token, clears the account's login throttle, records
    ``user_login`` (with the method) and starts a session, as a login does; a recovery
    code also records ``recovery_code_used`` and tells the owner by e-mail.

    A wrong code is INVALID_CODE, recorded as ``mfa_failed``, and counts twice: on the
    token (the ``MAX_CODE_FAILURES``-th kills it: INVALID_TOKEN from then on) and on the
    account's login throttle, as a wrong password does, so that its lockout (429, which
    also refuses the password step) caps the guesses across tokens, however many times
    the password is given again.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        totp: TotpAlgorithm,
        box: SecretBox,
        tokens: TokenService,
        clock: Clock,
        limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
        new_device_window: timedelta | None = None,
        monitor: LoginMonitor | None = None,
    ) -> None:
        self._uow = uow
        self._totp = totp
        self._box = box
        self._tokens = tokens
        self._clock = clock
        self._limits = limits
        self._new_device_window = new_device_window
        self._monitor = monitor

    async def __call__(self, cmd: MfaVerification) -> Authenticated:
        """``monitor`` is told the login's outcome, as ``AuthenticateUser`` tells it:
        success, invalid (a wrong code) or locked; and the account lockout a wrong code
        starts."""
        try:
            authenticated = await self._verify(cmd)
        except InvalidCode:
            self._tell("invalid")
            raise
        except TooManyAttempts:
            self._tell("locked")
            raise
        self._tell("success")
        return authenticated

    def _tell(self, outcome: LoginOutcome) -> None:
        if self._monitor is not None:
            self._monitor.login(outcome)

    async def _verify(self, cmd: MfaVerification) -> Authenticated:
        token_digest = digest(cmd.mfa_token)
        async with self._uow as uow:
            now = self._clock.now()
            challenge, user = await live_mfa_challenge(uow, token_digest, now)
            account = account_key_of(user.email)
            state = await uow.throttle.get(account)
            wait = longest_wait(now, state)
            if wait is not None:
                raise TooManyAttempts(retry_after=wait, context={"user_id": user.id})
            if challenge.failures >= MAX_CODE_FAILURES:
                raise InvalidToken(context={"user_id": user.id, "reason": "too many codes"})
            if await spend(uow, self._totp, self._box, user, cmd.factor, now):
                if not await uow.mfa_challenges.mark_used(token_digest, now):
                    raise InvalidToken()  # spent meanwhile, by a request with another code
                method = cmd.factor.method
                if method is MfaMethod.RECOVERY_CODES:
                    await self._recovery_code_used(uow, user, now, cmd.origin)
                pair = await complete_sign_in(
                    uow,
                    self._tokens,
                    user,
                    now=now,
                    origin=cmd.origin,
                    new_device_window=self._new_device_window,
                    mfa=method.value,
                )
                await uow.commit()
                return Authenticated(user=user, tokens=pair)
            failures = await uow.mfa_challenges.count_failure(token_digest)
            counted = register_failure(state, account, now, self._limits.account)
            await uow.throttle.put(counted)
            await uow.events.record(
                SecurityEvent.of(
                    "mfa_failed",
                    now,
                    user.id,
                    cmd.origin,
                    method=cmd.factor.method.value,
                    failures=failures,
                )
            )
            await uow.commit()
        # The account was not locked (refused above): a lock now is this code's.
        if counted.is_locked(now) and self._monitor is not None:
            self._monitor.lockout("account")
        raise InvalidCode(context={"user_id": challenge.user_id, "failures": failures})

    @staticmethod
    async def _recovery_code_used(
        uow: UnitOfWork, user: User, now: datetime, origin: RequestOrigin
    ) -> None:
        remaining = await uow.recovery_codes.remaining(user.id)
        await uow.events.record(
            SecurityEvent.of("recovery_code_used", now, user.id, origin, remaining=remaining)
        )
        notice = security_notice("recovery_code_used", user, now, origin, remaining=str(remaining))
        await uow.outbox.add(notice, now)


async def live_mfa_challenge(
    uow: UnitOfWork, token_digest: str, now: datetime
) -> tuple[MfaChallenge, User]:
    """The unspent, unexpired challenge of an ``mfa_token`` and its user, while the
    account is as it was when the password was given; else INVALID_TOKEN. Shared with a
    passkey completing the second step (``passkeys.sign_in``)."""
    challenge = await uow.mfa_challenges.get(token_digest)
    if challenge is None or challenge.used_at is not None or challenge.expires_at <= now:
        raise InvalidToken(context={"reason": "mfa token"})
    user = await uow.users.get(challenge.user_id)
    if (
        user is None
        or not user.is_active
        or not user.mfa_enabled
        or user.token_version != challenge.user_stamp
    ):
        raise InvalidToken(context={"user_id": challenge.user_id, "reason": "changed"})
    return challenge, user
