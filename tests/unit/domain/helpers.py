"""Plain helpers for arranging and observing state in the in-memory database.

They go through a unit of work like any other caller would, so what they arrange is what a
use case will see, and what they read is what was committed.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import EmailMessage, SecurityEvent, User, UserId

PASSWORD = "SecurePassword123!"
"""Meets every rule of the book's policy."""

NEW_PASSWORD = "AnotherSecret456?"
"""A second password meeting every rule, for changes and resets."""

APP_URL = "https://app.example"
"""The public URL the ``links`` fixture is configured with: e-mailed links point there."""


@dataclass(frozen=True, slots=True)
class Counts:
    """How many rows of each kind are committed: equal before and after means nothing was
    written."""

    users: int
    refresh_tokens: int
    outbox: int
    events: int


def counts(database: MemoryDatabase) -> Counts:
    state = database.state
    return Counts(
        users=len(state.users),
        refresh_tokens=len(state.refresh_tokens),
        outbox=len(state.outbox),
        events=len(state.events),
    )


def events_of(database: MemoryDatabase, kind: str) -> list[SecurityEvent]:
    return [event for event in database.events if event.type == kind]


async def stored_user(database: MemoryDatabase, user_id: UserId) -> User | None:
    async with InMemoryUnitOfWork(database) as uow:
        return await uow.users.get(user_id)


async def set_active(database: MemoryDatabase, user_id: UserId, *, active: bool) -> None:
    async with InMemoryUnitOfWork(database) as uow:
        user = await uow.users.get(user_id)
        assert user is not None
        user.is_active = active
        await uow.users.update(user)
        await uow.commit()


async def delete_user(database: MemoryDatabase, user_id: UserId) -> None:
    async with InMemoryUnitOfWork(database) as uow:
        await uow.users.delete(user_id)
        await uow.commit()


async def store_password_hash(
    database: MemoryDatabase, user_id: UserId, hashed: str, now: datetime
) -> None:
    async with InMemoryUnitOfWork(database) as uow:
        user = await uow.users.get(user_id)
        assert user is not None
        user.replace_password_hash(hashed, now)
        await uow.users.update(user)
        await uow.commit()


def b64(text: str) -> str:
    """``text`` in unpadded URL-safe base64, the encoding of a cursor: how a test hand-crafts
    cursors the server never issued."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def emails_of(database: MemoryDatabase, kind: str) -> list[EmailMessage]:
    """Committed outbox e-mails of one kind, oldest first."""
    return [entry.message for entry in database.outbox if entry.message.kind == kind]


def link_token(message: EmailMessage, path: str) -> str:
    """The token of the one-time link an e-mail carries, after checking that the link
    points at ``path`` of the client application and appears in the body."""
    link = message.data["link"]
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{APP_URL}{path}"
    [token] = parse_qs(parts.query, strict_parsing=True)["token"]
    assert link in message.body
    return token


class VerifyThenMeanwhile(Argon2Hasher):
    """The cheap real hasher; after its first ``verify`` it commits another transaction
    before answering: the deterministic form of "this happened while the password was
    being checked". Close it like any hasher."""

    def __init__(self, meanwhile: Callable[[], Awaitable[object]]) -> None:
        super().__init__(CHEAP_PARAMETERS, max_concurrency=1)
        self._meanwhile: Callable[[], Awaitable[object]] | None = meanwhile

    async def verify(self, hashed: str, password: str) -> bool:
        verified = await super().verify(hashed, password)
        meanwhile, self._meanwhile = self._meanwhile, None
        if meanwhile is not None:
            await meanwhile()
        return verified
