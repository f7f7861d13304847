"""Register a new account: policy, uniqueness, hash, store, welcome e-mail, event."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.errors import EmailAlreadyExists
from neodyme_domain.messages import NO_ORIGIN, EmailMessage, RequestOrigin, SecurityEvent
from neodyme_domain.model import Email, User, parse_full_name
from neodyme_domain.passwords import PasswordPolicy
from neodyme_domain.ports import Clock, PasswordHasher, TokenService, UnitOfWork
from neodyme_domain.sessions.issue import issue_pair
from neodyme_domain.tokens.model import TokenPair


@dataclass(frozen=True, slots=True)
class RegisterCommand:
    email: str
    full_name: str
    password: str
    origin: RequestOrigin = NO_ORIGIN
    is_superuser: bool = False
    """Only the CLI sets this; the HTTP API has no way to ask for it."""


@dataclass(frozen=True, slots=True)
class Registered:
    user: User
    tokens: TokenPair


class RegisterUser:
    """The welcome e-mail goes into the outbox in the same transaction as the user, so a
    failing mail server can neither fail the registration nor lose the e-mail: the
    dispatcher delivers it after commit and retries until it is sent.

    ``reader`` (a read-only unit of work, default ``uow``) serves the look-up that turns
    a taken address away before the hash: on PostgreSQL it needs no BEGIN and ROLLBACK.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        tokens: TokenService,
        clock: Clock,
        reader: UnitOfWork | None = None,
    ) -> None:
        self._uow = uow
        self._reader = reader or uow
        self._hasher = hasher
        self._policy = policy
        self._tokens = tokens
        self._clock = clock

    async def __call__(self, cmd: RegisterCommand) -> Registered:
        email = Email.parse(cmd.email)
        full_name = parse_full_name(cmd.full_name)
        self._policy.check(cmd.password)
        context = {"attempted_registration_ip": cmd.origin.client_ip}

        # Check first so a duplicate costs a lookup, not a hash; the unique index still
        # settles a race between two registrations of one address.
        async with self._reader as reader:
            if await reader.users.get_by_email(email) is not None:
                raise EmailAlreadyExists(email.value, context=context)

        hashed = await self._hasher.hash(cmd.password)
        now = self._clock.now()
        user = User.register(
            email=email,
            full_name=full_name,
            hashed_password=hashed,
            now=now,
            is_superuser=cmd.is_superuser,
        )
        async with self._uow as uow:
            await uow.users.add(user)
            await uow.outbox.add(EmailMessage.welcome(user), now)
            await uow.events.record(
                SecurityEvent.of(
                    "user_registration", now, user.id, cmd.origin, user_email=user.email.value
                )
            )
            pair = await issue_pair(uow, self._tokens, user, now=now, origin=cmd.origin)
            await uow.commit()
        return Registered(user=user, tokens=pair)
