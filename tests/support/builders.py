"""Domain objects for tests, with defaults that say nothing and overrides that say much.

The people the defaults invent come from the one generator of realistic people
(neodyme_adapters.faker_people, the same as ``neodyme seed --realistic``): names in many
scripts, mixed-case addresses on real providers, passwords of the book policy. Each test
gets its own stream, seeded by the test's id (``InventedPeople.start``, called before
every test by tests/conftest.py), so a test invents the same people whatever ran before
it and on whichever worker; a value a test depends on is passed explicitly.
"""

from __future__ import annotations

import secrets
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from neodyme_domain.messages import EmailMessage, SecurityEvent
from neodyme_domain.model import Email, User, UserId
from neodyme_domain.passwords import BOOK_POLICY
from neodyme_domain.ports import Person
from neodyme_domain.tokens.model import (
    OneTimePurpose,
    OneTimeTokenRecord,
    RefreshTokenRecord,
    digest,
    new_one_time_token,
)

# Not a real hash: repositories store whatever the hasher produced, opaque.
FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"


ORDER_EDGE_IDS: tuple[uuid.UUID, ...] = tuple(
    uuid.UUID(text)
    for text in (
        "00000000-0000-0000-0000-000000000000",
        "00000000-0000-0000-0000-0000000000ff",
        "00000000-0000-0000-0000-000000000100",
        "7fffffff-ffff-4fff-bfff-ffffffffffff",
        "80000000-0000-4000-8000-000000000000",
        "9fffffff-ffff-4fff-bfff-ffffffffffff",
        "a0000000-0000-4000-8000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    )
)
"""Ids whose order is easy to get wrong: a digit against a letter in the first hex place
(text order of hex must match the integer order), the sign bit of the first byte and of
the 128-bit integer (bytewise must be unsigned), a carry into the next byte, the extremes."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class InventedPeople:
    """The stream of invented people of the running test. Faker is imported, and each
    locale loaded, on the first person a process invents, not when tests are collected."""

    def __init__(self) -> None:
        self._test_id = ""
        self._stream: Iterator[Person] | None = None

    def start(self, test_id: str) -> None:
        """A new stream for the test ``test_id``, made lazily on its first person."""
        self._test_id, self._stream = test_id, None

    def next(self) -> Person:
        if self._stream is None:
            from neodyme_adapters.faker_people import FakerPeople

            seed = zlib.crc32(self._test_id.encode())
            self._stream = FakerPeople(BOOK_POLICY).people(seed)
        return next(self._stream)


PEOPLE = InventedPeople()


def a_person() -> Person:
    """Someone who could sign up: a realistic name, an address no one else in this test
    has, and a password the book policy accepts (distinct within the test)."""
    return PEOPLE.next()


def a_user(
    email: str | None = None,
    *,
    full_name: str | None = None,
    now: datetime | None = None,
    is_superuser: bool = False,
) -> User:
    """A user of an invented person, unless ``email`` or ``full_name`` say otherwise."""
    if email is None or full_name is None:
        person = a_person()
        email = person.email if email is None else email
        full_name = person.full_name if full_name is None else full_name
    return User.register(
        email=Email.parse(email),
        full_name=full_name,
        hashed_password=FAKE_HASH,
        now=now or utc_now(),
        is_superuser=is_superuser,
    )


def a_refresh_token(
    user_id: UserId,
    *,
    family_id: str | None = None,
    issued_at: datetime | None = None,
    ttl: timedelta = timedelta(days=14),
) -> RefreshTokenRecord:
    issued = issued_at or utc_now()
    return RefreshTokenRecord(
        token_digest=digest(secrets.token_urlsafe(32)),
        user_id=user_id,
        family_id=family_id or secrets.token_hex(16),
        issued_at=issued,
        expires_at=issued + ttl,
    )


def a_one_time_token(
    user_id: UserId,
    *,
    purpose: OneTimePurpose = OneTimePurpose.PASSWORD_RESET,
    user_stamp: int = 0,
    created_at: datetime | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> OneTimeTokenRecord:
    created = created_at or utc_now()
    return OneTimeTokenRecord(
        token_digest=digest(new_one_time_token()),
        user_id=user_id,
        purpose=purpose,
        user_stamp=user_stamp,
        created_at=created,
        expires_at=created + ttl,
    )


def a_message(to: str | None = None, *, kind: str = "welcome", **data: str) -> EmailMessage:
    """A message to ``to``, or to an invented person."""
    to = a_person().email if to is None else to
    return EmailMessage(
        kind=kind,
        to=to,
        subject=f"{kind} for {to}",
        body=f"Hello {to},\n\nthis is a {kind} message.\n",
        data=dict(data),
    )


def an_event(type: str = "user_login", **fields: Any) -> SecurityEvent:
    fields.setdefault("occurred_at", utc_now())
    return SecurityEvent(type=type, **fields)
