"""Properties of the account lifecycle, checked on generated inputs.

As in test_properties.py, each example builds its own database, hasher and clock inside
the test body, so no example sees another's users or links.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import BOOK_POLICY, InvalidCredentials, InvalidLink, User, WeakPassword
from neodyme_domain.pagination import PageRequest
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    LinkSettings,
    ListUsers,
    ListUsersQuery,
    PasswordResetRequest,
    RegisterCommand,
    RegisterUser,
    RequestPasswordReset,
    ResetPassword,
    ResetPasswordCommand,
)
from tests.unit.domain.helpers import APP_URL, PASSWORD, emails_of, link_token

SECRET = "neodyme-lifecycle-properties-secret-0123456789"
LIFECYCLE_EXAMPLES = settings(max_examples=25, deadline=None)
START = datetime(2026, 1, 1, tzinfo=UTC)


class World:
    """One example's in-memory service: a database, a cheap hasher, a settable clock."""

    def __init__(self) -> None:
        self.clock = ManualClock(START)
        self.database = MemoryDatabase()
        self.hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1)
        self.tokens = JwtTokenService(secret=SECRET, clock=self.clock)
        self.links = LinkSettings(public_url=APP_URL, ttl=timedelta(hours=1))

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.database)

    def set_clock(self, at: datetime) -> None:
        self.clock.advance(at - self.clock.now())  # a ManualClock may be moved backwards

    async def register(self, n: int, at: datetime, *, superuser: bool = False) -> User:
        self.set_clock(at)
        register = RegisterUser(
            uow=self.uow(),
            hasher=self.hasher,
            policy=BOOK_POLICY,
            tokens=self.tokens,
            clock=self.clock,
        )
        command = RegisterCommand(
            f"u{n}@example.com", f"User {n}", PASSWORD, is_superuser=superuser
        )
        return (await register(command)).user


# --- ListUsers -------------------------------------------------------------------------------

CREATION_OFFSETS = st.one_of(
    st.integers(min_value=0, max_value=3).map(lambda s: timedelta(seconds=s)),  # collisions
    st.integers(min_value=0, max_value=10_000_000).map(lambda us: timedelta(microseconds=us)),
)


@LIFECYCLE_EXAMPLES
@given(
    offsets=st.lists(CREATION_OFFSETS, min_size=0, max_size=15),
    admin_offset=CREATION_OFFSETS,
    page_size=st.integers(min_value=1, max_value=20),
)
async def test_walking_the_user_pages_visits_every_account_exactly_once_in_order(
    offsets: list[timedelta], admin_offset: timedelta, page_size: int
) -> None:
    world = World()
    try:
        admin = await world.register(0, START + admin_offset, superuser=True)
        users = [admin] + [
            await world.register(n, START + offset) for n, offset in enumerate(offsets, start=1)
        ]
        list_users = ListUsers(uow=world.uow())

        pages: list[list[User]] = []
        cursor: str | None = None
        while True:
            page = await list_users(ListUsersQuery(admin, PageRequest(page_size, cursor)))
            pages.append(page.items)
            if page.next_cursor is None:
                break
            assert len(pages) <= len(users), "the walk does not end"
            cursor = page.next_cursor

        visited = [u.id for p in pages for u in p]
        assert visited == [u.id for u in sorted(users, key=lambda u: (u.created_at, u.id))]
        assert all(len(p) == page_size for p in pages[:-1])
        assert 1 <= len(pages[-1]) <= page_size
    finally:
        world.hasher.close()


# --- ResetPassword -----------------------------------------------------------------------------

STRONG = st.text(string.ascii_letters + string.digits, min_size=4, max_size=12).map(
    lambda s: f"Aa1!{s}"
)
WEAK = st.one_of(
    st.sampled_from(["123", "password", "PASSWORD", "Password", "Password123"]),
    st.text(string.ascii_lowercase, max_size=20),
)


@dataclass(frozen=True)
class Attempt:
    password: str
    strong: bool
    wait: timedelta
    """How long after the previous step the attempt is made (all within the link's hour)."""


@st.composite
def attempts(draw: st.DrawFn) -> Attempt:
    strong = draw(st.booleans())
    return Attempt(
        password=draw(STRONG if strong else WEAK),
        strong=strong,
        wait=timedelta(seconds=draw(st.integers(min_value=0, max_value=600))),
    )


@LIFECYCLE_EXAMPLES
@given(attempts=st.lists(attempts(), min_size=1, max_size=5))
async def test_a_reset_link_works_exactly_once_whatever_the_attempts(
    attempts: list[Attempt],
) -> None:
    world = World()
    try:
        user = await world.register(1, START)
        await RequestPasswordReset(uow=world.uow(), clock=world.clock, links=world.links)(
            PasswordResetRequest(user.email.value)
        )
        [email] = emails_of(world.database, "password_reset")
        token = link_token(email, "/reset-password")
        reset = ResetPassword(
            uow=world.uow(), hasher=world.hasher, policy=BOOK_POLICY, clock=world.clock
        )

        winner: str | None = None
        for attempt in attempts:
            world.clock.advance(attempt.wait)
            command = ResetPasswordCommand(token, attempt.password)
            if winner is not None:
                # Spent: refused before the password is even looked at.
                with pytest.raises(InvalidLink):
                    await reset(command)
            elif attempt.strong:
                await reset(command)
                winner = attempt.password
            else:
                # A weak password neither works nor spends the link.
                with pytest.raises(WeakPassword):
                    await reset(command)

        resets = [e for e in world.database.events if e.type == "password_reset"]
        assert len(resets) == (0 if winner is None else 1)
        authenticate = AuthenticateUser(
            uow=world.uow(), hasher=world.hasher, tokens=world.tokens, clock=world.clock
        )
        expected = winner or PASSWORD
        await authenticate(AuthenticateCommand(user.email.value, expected))
        for other in {PASSWORD, *(a.password for a in attempts)} - {expected}:
            with pytest.raises(InvalidCredentials):
                await authenticate(AuthenticateCommand(user.email.value, other))
    finally:
        world.hasher.close()
