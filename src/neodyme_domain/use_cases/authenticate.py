"""Log in with e-mail and password."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import AccountInactive, InvalidCredentials, ValidationFailed
from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import Email, User
from neodyme_domain.passwords import check_length_bound
from neodyme_domain.ports import Clock, PasswordHasher, TokenService, UnitOfWork
from neodyme_domain.tokens import TokenPair
from neodyme_domain.use_cases.sessions import issue_pair


@dataclass(frozen=True, slots=True)
class AuthenticateCommand:
    email: str
    password: str
    origin: RequestOrigin = NO_ORIGIN


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    tokens: TokenPair


class AuthenticateUser:
    """Unknown e-mail and wrong password are indistinguishable to the caller: the same
    error, and (through a dummy verify) the same time. ACCOUNT_INACTIVE is only revealed to
    someone who proved they know the password. A hash made with outdated parameters is
    replaced on the way through."""

    def __init__(
        self, *, uow: UnitOfWork, hasher: PasswordHasher, tokens: TokenService, clock: Clock
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock

    async def __call__(self, cmd: AuthenticateCommand) -> Authenticated:
        check_length_bound(cmd.password)
        # The lookup and the writes are two short transactions: no connection or lock is
        # held while the hasher works for tens of milliseconds.
        user = await self._find(cmd.email)
        if user is None:
            await self._hasher.verify_dummy(cmd.password)
            await self._fail(cmd, None, "unknown_email")
            raise InvalidCredentials(context={"email": cmd.email, "reason": "unknown_email"})
        if not await self._hasher.verify(user.hashed_password, cmd.password):
            await self._fail(cmd, user, "invalid_password")
            raise InvalidCredentials(context={"user_id": user.id, "reason": "invalid_password"})
        if not user.is_active:
            await self._fail(cmd, user, "inactive")
            raise AccountInactive(context={"user_id": user.id})

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
                await uow.events.record(
                    SecurityEvent.of("user_login", now, current.id, cmd.origin, email=cmd.email)
                )
                pair = await issue_pair(uow, self._tokens, current, now=now)
                await uow.commit()
                return Authenticated(user=current, tokens=pair)
        if current is not None and not current.is_active:
            await self._fail(cmd, user, "inactive")
            raise AccountInactive(context={"user_id": user.id})
        await self._fail(cmd, user, "changed_meanwhile")
        raise InvalidCredentials(context={"user_id": user.id, "reason": "changed_meanwhile"})

    async def _find(self, raw_email: str) -> User | None:
        try:
            email = Email.parse(raw_email)
        except ValidationFailed:
            return None  # no such account can exist; answer like any unknown address
        async with self._uow as uow:
            return await uow.users.get_by_email(email)

    async def _fail(self, cmd: AuthenticateCommand, user: User | None, reason: str) -> None:
        now = self._clock.now()
        event = SecurityEvent.of(
            "login_failed",
            now,
            user.id if user else None,
            cmd.origin,
            email=cmd.email,
            reason=reason,
        )
        async with self._uow as uow:
            await uow.events.record(event)
            await uow.commit()
