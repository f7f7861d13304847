"""In-memory persistence with real transactions: product code, not a test double.

All state lives in one ``MemoryDatabase``. A unit of work holds the database's lock for
its whole transaction and works on a copy of the state, which replaces the shared state on
commit and is dropped otherwise. That gives serializable transactions with the same
observable behaviour the SQL adapters have, which the contract suites check.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from neodyme_adapters.json_values import to_json
from neodyme_adapters.memory.federation import (
    InMemoryFederationRequestStore,
    InMemoryLinkedIdentityStore,
)
from neodyme_adapters.memory.mfa import (
    InMemoryMfaChallengeStore,
    InMemoryRecoveryCodeStore,
    InMemoryTotpStore,
    RecoveryCodes,
)
from neodyme_adapters.memory.passkeys import InMemoryPasskeyStore, InMemoryWebAuthnChallengeStore
from neodyme_adapters.memory.sessions import InMemorySessionStore
from neodyme_adapters.memory.tokens import InMemorySigningKeyStore
from neodyme_domain.errors import EmailAlreadyExists
from neodyme_domain.federation.model import FederationRequest, LinkedIdentity
from neodyme_domain.messages import EmailMessage, OutboxBacklog, OutboxEntry, SecurityEvent
from neodyme_domain.mfa.model import MfaChallenge, TotpAuthenticator
from neodyme_domain.model import Email, User, UserId, new_id
from neodyme_domain.pagination import Position
from neodyme_domain.passkeys.model import Passkey, WebAuthnChallenge
from neodyme_domain.ports import UnitOfWork
from neodyme_domain.sessions.model import Session
from neodyme_domain.throttling import ThrottleState
from neodyme_domain.tokens.model import OneTimeTokenRecord, RefreshTokenRecord
from neodyme_domain.tokens.signing_keys import SigningKey


@dataclass
class MemoryState:
    users: dict[UserId, User] = field(default_factory=dict)
    user_ids_by_email: dict[str, UserId] = field(default_factory=dict)
    """``Email.key`` to user id: the unique index, so that look-ups do not scan every user."""
    refresh_tokens: dict[str, RefreshTokenRecord] = field(default_factory=dict)
    outbox: dict[uuid.UUID, OutboxEntry] = field(default_factory=dict)
    events: list[SecurityEvent] = field(default_factory=list)
    one_time_tokens: dict[str, OneTimeTokenRecord] = field(default_factory=dict)
    throttle: dict[str, ThrottleState] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    totp: dict[UserId, TotpAuthenticator] = field(default_factory=dict)
    recovery_codes: RecoveryCodes = field(default_factory=dict)
    mfa_challenges: dict[str, MfaChallenge] = field(default_factory=dict)
    passkeys: dict[str, Passkey] = field(default_factory=dict)
    webauthn_challenges: dict[str, WebAuthnChallenge] = field(default_factory=dict)
    signing_keys: dict[int, SigningKey] = field(default_factory=dict)
    linked_identities: dict[UserId, LinkedIdentity] = field(default_factory=dict)
    federation_requests: dict[str, FederationRequest] = field(default_factory=dict)

    def copy(self) -> MemoryState:
        # Users are mutable entities: copy them so an uncommitted change cannot leak.
        return MemoryState(
            users={uid: copy.copy(user) for uid, user in self.users.items()},
            user_ids_by_email=dict(self.user_ids_by_email),
            refresh_tokens=dict(self.refresh_tokens),
            outbox=dict(self.outbox),
            events=list(self.events),
            one_time_tokens=dict(self.one_time_tokens),
            throttle=dict(self.throttle),
            sessions=dict(self.sessions),
            totp=dict(self.totp),
            recovery_codes=dict(self.recovery_codes),
            mfa_challenges=dict(self.mfa_challenges),
            passkeys=dict(self.passkeys),
            webauthn_challenges=dict(self.webauthn_challenges),
            signing_keys=dict(self.signing_keys),
            linked_identities=dict(self.linked_identities),
            federation_requests=dict(self.federation_requests),
        )


class MemoryDatabase:
    """The shared state of every in-memory unit of work built on it."""

    def __init__(self) -> None:
        self.state = MemoryState()
        self.lock = asyncio.Lock()

    @property
    def events(self) -> list[SecurityEvent]:
        """Committed security events, oldest first."""
        return self.state.events

    @property
    def outbox(self) -> list[OutboxEntry]:
        """Committed outbox entries, oldest first."""
        return sorted(self.state.outbox.values(), key=lambda e: e.created_at)


class InMemoryUserRepository:
    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def add(self, user: User) -> None:
        if user.email.key in self._state.user_ids_by_email:
            raise EmailAlreadyExists(user.email.value)
        self._state.users[user.id] = copy.copy(user)
        self._state.user_ids_by_email[user.email.key] = user.id

    async def get(self, user_id: UserId) -> User | None:
        user = self._state.users.get(user_id)
        return copy.copy(user) if user else None

    async def get_by_email(self, email: Email) -> User | None:
        user_id = self._state.user_ids_by_email.get(email.key)
        return await self.get(user_id) if user_id is not None else None

    async def update(self, user: User) -> None:
        stored = self._state.users.get(user.id)
        if stored is None:
            return
        if stored.email.key != user.email.key:
            if user.email.key in self._state.user_ids_by_email:
                raise EmailAlreadyExists(user.email.value)
            del self._state.user_ids_by_email[stored.email.key]
            self._state.user_ids_by_email[user.email.key] = user.id
        self._state.users[user.id] = copy.copy(user)

    async def delete(self, user_id: UserId) -> None:
        stored = self._state.users.pop(user_id, None)
        if stored is not None:
            del self._state.user_ids_by_email[stored.email.key]
        # What the SQL schema's ON DELETE CASCADE does.
        state = self._state
        owned: tuple[dict[Any, Any], ...] = (
            state.refresh_tokens,
            state.one_time_tokens,
            state.sessions,
            state.mfa_challenges,
            state.passkeys,
            state.webauthn_challenges,
            state.linked_identities,
            state.federation_requests,
        )
        for records in owned:
            for key in [k for k, record in records.items() if record.user_id == user_id]:
                del records[key]
        state.totp.pop(user_id, None)
        for code in [code for code in state.recovery_codes if code[0] == user_id]:
            del state.recovery_codes[code]

    async def list_after(self, after: Position | None, limit: int) -> list[User]:
        ordered = sorted(self._state.users.values(), key=_user_position)
        return [copy.copy(u) for u in ordered if after is None or _user_position(u) > after][:limit]


class InMemoryRefreshTokenStore:
    def __init__(self, state: MemoryState) -> None:
        self._tokens = state.refresh_tokens

    async def add(self, record: RefreshTokenRecord) -> None:
        self._tokens[record.token_digest] = record

    async def get(self, token_digest: str) -> RefreshTokenRecord | None:
        return self._tokens.get(token_digest)

    async def mark_used(self, token_digest: str, at: datetime) -> bool:
        record = self._tokens.get(token_digest)
        if record is None or record.used_at is not None or record.revoked_at is not None:
            return False
        self._tokens[token_digest] = replace(record, used_at=at)
        return True

    async def revoke_family(self, family_id: str, at: datetime) -> None:
        self._revoke(lambda record: record.family_id == family_id, at)

    async def revoke_all_for_user(self, user_id: UserId, at: datetime) -> None:
        self._revoke(lambda record: record.user_id == user_id, at)

    def _revoke(self, selected: Callable[[RefreshTokenRecord], bool], at: datetime) -> None:
        for key, record in self._tokens.items():
            if selected(record) and record.revoked_at is None:
                self._tokens[key] = replace(record, revoked_at=at)


class InMemoryOneTimeTokenStore:
    def __init__(self, state: MemoryState) -> None:
        self._tokens = state.one_time_tokens

    async def add(self, record: OneTimeTokenRecord) -> None:
        self._tokens[record.token_digest] = record

    async def get(self, token_digest: str) -> OneTimeTokenRecord | None:
        return self._tokens.get(token_digest)

    async def mark_used(self, token_digest: str, at: datetime) -> bool:
        record = self._tokens.get(token_digest)
        if record is None or record.used_at is not None:
            return False
        self._tokens[token_digest] = replace(record, used_at=at)
        return True


class InMemoryOutbox:
    def __init__(self, state: MemoryState) -> None:
        self._entries = state.outbox
        self.added = False

    async def add(self, message: EmailMessage, at: datetime) -> None:
        self.added = True
        entry = OutboxEntry(id=new_id(), message=message, created_at=at, next_attempt_at=at)
        self._entries[entry.id] = entry

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxEntry]:
        due = sorted(
            (
                e
                for e in self._entries.values()
                if e.sent_at is None
                and e.dead_at is None
                and (e.next_attempt_at is None or e.next_attempt_at <= now)
            ),
            key=lambda e: e.created_at,
        )[:limit]
        for entry in due:
            self._entries[entry.id] = replace(entry, next_attempt_at=now + lease)
        return due

    async def mark_sent(self, entry_id: uuid.UUID, at: datetime) -> None:
        self._entries[entry_id] = replace(self._entries[entry_id], sent_at=at, last_error=None)

    async def mark_failed(self, entry_id: uuid.UUID, error: str, retry_at: datetime) -> None:
        entry = self._entries[entry_id]
        self._entries[entry_id] = replace(
            entry, attempts=entry.attempts + 1, last_error=error, next_attempt_at=retry_at
        )

    async def mark_dead(self, entry_id: uuid.UUID, error: str, at: datetime) -> None:
        entry = self._entries[entry_id]
        self._entries[entry_id] = replace(
            entry, attempts=entry.attempts + 1, last_error=error, dead_at=at
        )

    async def backlog(self) -> OutboxBacklog:
        unsent = [e for e in self._entries.values() if e.sent_at is None]
        pending = [e for e in unsent if e.dead_at is None]
        return OutboxBacklog(
            pending=len(pending),
            failing=sum(1 for e in pending if e.attempts > 0),
            dead=len(unsent) - len(pending),
            oldest_pending_at=min((e.created_at for e in pending), default=None),
        )

    async def requeue(self, now: datetime, *, include_dead: bool) -> int:
        requeued = 0
        for entry in list(self._entries.values()):
            if entry.sent_at is not None:
                continue
            if entry.dead_at is None and entry.attempts > 0:
                self._entries[entry.id] = replace(entry, next_attempt_at=now)
            elif entry.dead_at is not None and include_dead:
                self._entries[entry.id] = replace(
                    entry, dead_at=None, attempts=0, next_attempt_at=now
                )
            else:
                continue
            requeued += 1
        return requeued


class InMemoryEventRecorder:
    def __init__(self, state: MemoryState) -> None:
        self._events = state.events

    async def record(self, event: SecurityEvent) -> None:
        # Kept as a JSON column keeps it, so that what is read back has the types the SQL
        # stores give (a UUID in ``data`` comes back as its string).
        self._events.append(replace(event, data=to_json(event.data)))

    async def list_for_user(
        self, user_id: UserId, before: Position | None, limit: int
    ) -> list[SecurityEvent]:
        own = sorted(
            (e for e in self._events if e.user_id == user_id), key=_event_position, reverse=True
        )
        return [e for e in own if before is None or _event_position(e) < before][:limit]


class InMemoryLoginThrottle:
    """Transactions on a ``MemoryDatabase`` are serialised by its lock, so ``get`` needs no
    lock of its own to be "for update"."""

    def __init__(self, state: MemoryState) -> None:
        self._states = state.throttle

    async def get(self, key: str) -> ThrottleState | None:
        return self._states.get(key)

    async def any_recorded(self, keys: Sequence[str]) -> bool:
        return any(key in self._states for key in keys)

    async def put(self, state: ThrottleState) -> None:
        self._states[state.key] = state

    async def delete(self, key: str) -> None:
        self._states.pop(key, None)

    async def purge_expired(self, now: datetime) -> int:
        expired = [key for key, state in self._states.items() if state.is_expired(now)]
        for key in expired:
            del self._states[key]
        return len(expired)


def _user_position(user: User) -> Position:
    return Position(user.created_at, user.id)


def _event_position(event: SecurityEvent) -> Position:
    return Position(event.occurred_at, event.id)


class InMemoryUnitOfWork:
    """A transaction over a ``MemoryDatabase``; see the module docstring."""

    users: InMemoryUserRepository
    refresh_tokens: InMemoryRefreshTokenStore
    outbox: InMemoryOutbox
    events: InMemoryEventRecorder
    one_time_tokens: InMemoryOneTimeTokenStore
    throttle: InMemoryLoginThrottle
    sessions: InMemorySessionStore
    totp: InMemoryTotpStore
    recovery_codes: InMemoryRecoveryCodeStore
    mfa_challenges: InMemoryMfaChallengeStore
    passkeys: InMemoryPasskeyStore
    webauthn_challenges: InMemoryWebAuthnChallengeStore
    signing_keys: InMemorySigningKeyStore
    linked_identities: InMemoryLinkedIdentityStore
    federation_requests: InMemoryFederationRequestStore

    def __init__(
        self,
        database: MemoryDatabase,
        after_commit: Callable[[], None] | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        """``after_commit`` is called after a commit that queued e-mails (to wake the
        dispatcher). A ``read_only`` unit of work, like the SQL adapter's, is for pure
        reads (the token check on every request): it reads the committed state in place
        instead of copying all of it, and cannot commit."""
        self._db = database
        self._after_commit = after_commit
        self._read_only = read_only
        self._working: MemoryState | None = None
        self.committed = False

    async def __aenter__(self) -> Self:
        await self._db.lock.acquire()
        self._working = self._db.state if self._read_only else self._db.state.copy()
        self._rebind(self._working)
        self.committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        self._db.lock.release()

    async def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit() outside of 'async with'")
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._db.state = self._working
        outbox_grew = self.outbox.added
        # Later statements in the same block work on a fresh copy, as after a SQL COMMIT.
        self._working = self._working.copy()
        self._rebind(self._working)
        self.committed = True
        if outbox_grew and self._after_commit is not None:
            self._after_commit()

    def _rebind(self, state: MemoryState) -> None:
        self.users = InMemoryUserRepository(state)
        self.refresh_tokens = InMemoryRefreshTokenStore(state)
        self.outbox = InMemoryOutbox(state)
        self.events = InMemoryEventRecorder(state)
        self.one_time_tokens = InMemoryOneTimeTokenStore(state)
        self.throttle = InMemoryLoginThrottle(state)
        self.sessions = InMemorySessionStore(state.sessions, state.users)
        self.totp = InMemoryTotpStore(state.totp)
        self.recovery_codes = InMemoryRecoveryCodeStore(state.recovery_codes)
        self.mfa_challenges = InMemoryMfaChallengeStore(state.mfa_challenges)
        self.passkeys = InMemoryPasskeyStore(state.passkeys)
        self.webauthn_challenges = InMemoryWebAuthnChallengeStore(state.webauthn_challenges)
        self.signing_keys = InMemorySigningKeyStore(state.signing_keys)
        self.linked_identities = InMemoryLinkedIdentityStore(state.linked_identities)
        self.federation_requests = InMemoryFederationRequestStore(state.federation_requests)


if TYPE_CHECKING:
    # mypy proves here, once, that the adapter fits the port the use cases are written for.
    _checked: type[UnitOfWork] = InMemoryUnitOfWork
