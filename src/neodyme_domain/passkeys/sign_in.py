"""Signing in with a passkey: alone (passwordless), or as a login's second factor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from neodyme_domain.errors import AccountInactive, InvalidToken, PasskeyInvalid, PasskeyRefused
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.mfa.model import MfaMethod
from neodyme_domain.mfa.verify_mfa import live_mfa_challenge
from neodyme_domain.model import User
from neodyme_domain.passkeys.challenges import issued_for, signed_challenge, spend_challenge
from neodyme_domain.passkeys.model import Ceremony, Passkey, VerifiedAssertion, WebAuthnChallenge
from neodyme_domain.ports import (
    Clock,
    LoginMonitor,
    LoginOutcome,
    TokenService,
    UnitOfWork,
    WebAuthnCeremonies,
)
from neodyme_domain.sessions.sign_in import complete_sign_in
from neodyme_domain.use_cases.authenticate import Authenticated


@dataclass(frozen=True, slots=True)
class PasskeySignIn:
    answer: dict[str, object]
    """The browser's ``AuthenticationResponseJSON``."""
    origin: RequestOrigin = NO_ORIGIN


def counter_went_back(stored: int, reported: int) -> bool:
    """WebAuthn Level 2 section 6.1.1: when either counter is non-zero, a genuine
    authenticator reports more than last time; anything else suggests a cloned
    credential. Authenticators without a counter (synced passkeys) report 0 forever.
    (A stored 0 is never gone back from: whatever is reported is at least 0.)"""
    return stored > 0 and reported <= stored


class SignInWithPasskey:
    """A verified assertion from a registered passkey signs its owner in, as a login
    with a password and a second factor would: a passkey with user verification is two
    factors in one (the device, and the PIN or biometric that unlocks it), so an account
    with two-factor sign-in on is not asked for a code after it.

    Every refusal is one answer, PASSKEY_REFUSED: unknown credential, bad signature,
    another user's passkey for a login's second step, a counter that went backwards
    (recorded as ``passkey_counter_regressed``, and the passkey is not used). A passkey
    cannot be guessed, so refusals do not count toward the login throttle, and a
    success clears it, as a completed login does.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        ceremonies: WebAuthnCeremonies,
        tokens: TokenService,
        clock: Clock,
        new_device_window: timedelta | None = None,
        monitor: LoginMonitor | None = None,
    ) -> None:
        self._uow = uow
        self._ceremonies = ceremonies
        self._tokens = tokens
        self._clock = clock
        self._new_device_window = new_device_window
        self._monitor = monitor

    async def __call__(self, cmd: PasskeySignIn) -> Authenticated:
        try:
            authenticated = await self._sign_in(cmd)
        except PasskeyRefused:
            self._tell("invalid")
            raise
        self._tell("success")
        return authenticated

    def _tell(self, outcome: LoginOutcome) -> None:
        if self._monitor is not None:
            self._monitor.login(outcome)

    async def _sign_in(self, cmd: PasskeySignIn) -> Authenticated:
        now = self._clock.now()
        raw = signed_challenge(self._ceremonies, cmd.answer)
        async with self._uow as uow:  # one read for both: the challenge and the passkey
            spent = await spend_challenge(uow, raw, now)
            named = await uow.passkeys.by_credential(self._ceremonies.credential_id_of(cmd.answer))
            await uow.commit()
        challenge = issued_for(spent, Ceremony.AUTHENTICATION)
        passkey = self._registered(named, challenge)
        try:
            assertion = self._ceremonies.verify_authentication(
                cmd.answer, challenge=raw, public_key=passkey.public_key
            )
        except PasskeyInvalid as exc:
            raise PasskeyRefused(context={"user_id": passkey.user_id, **exc.context}) from exc
        if counter_went_back(passkey.sign_count, assertion.sign_count):
            await self._counter_regressed(passkey, assertion, now, cmd.origin)
        async with self._uow as uow:
            if not await uow.passkeys.record_use(
                passkey.id,
                seen_count=passkey.sign_count,
                sign_count=assertion.sign_count,
                backed_up=assertion.backed_up,
                at=now,
            ):
                # Another assertion of this passkey moved its counter meanwhile.
                raise PasskeyRefused(context={"user_id": passkey.user_id, "reason": "raced"})
            user = await self._user(uow, passkey, challenge, now)
            facts = {"mfa": MfaMethod.PASSKEY.value} if challenge.mfa_digest else {}
            pair = await complete_sign_in(
                uow,
                self._tokens,
                user,
                now=now,
                origin=cmd.origin,
                new_device_window=self._new_device_window,
                method=MfaMethod.PASSKEY.value,
                passkey_id=passkey.id,
                **facts,
            )
            await uow.commit()
        return Authenticated(user=user, tokens=pair)

    @staticmethod
    def _registered(passkey: Passkey | None, challenge: WebAuthnChallenge) -> Passkey:
        """The passkey the answer names, if one is registered and may answer
        ``challenge``."""
        if passkey is None:
            raise PasskeyRefused(context={"reason": "unknown credential"})
        if challenge.user_id is not None and passkey.user_id != challenge.user_id:
            raise PasskeyRefused(context={"user_id": challenge.user_id, "reason": "another's"})
        return passkey

    async def _counter_regressed(
        self, passkey: Passkey, assertion: VerifiedAssertion, now: datetime, origin: RequestOrigin
    ) -> None:
        async with self._uow as uow:
            await uow.events.record(
                SecurityEvent.of(
                    "passkey_counter_regressed",
                    now,
                    passkey.user_id,
                    origin,
                    passkey_id=passkey.id,
                    stored=passkey.sign_count,
                    reported=assertion.sign_count,
                )
            )
            await uow.commit()
        raise PasskeyRefused(context={"user_id": passkey.user_id, "reason": "counter went back"})

    @staticmethod
    async def _user(
        uow: UnitOfWork, passkey: Passkey, challenge: WebAuthnChallenge, now: datetime
    ) -> User:
        """The passkey's owner, able to sign in; for a second step, the login's challenge
        spent (once: a second answer to it finds it used)."""
        if challenge.mfa_digest is not None:
            _, waiting = await live_mfa_challenge(uow, challenge.mfa_digest, now)
            if not await uow.mfa_challenges.mark_used(challenge.mfa_digest, now):
                raise InvalidToken()
            return waiting
        owner = await uow.users.get(passkey.user_id)
        assert owner is not None  # the passkey, just updated, holds a foreign key to it
        if not owner.is_active:
            raise AccountInactive(context={"user_id": owner.id})
        return owner
