"""RFC 7662 introspection: only the configured resource servers ask, with their secret;
a live access token answers its claims, any dead one nothing; guessing secrets locks the
address out."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain.errors import InvalidClient, TooManyAttempts
from neodyme_domain.throttling import ThrottleLimits
from neodyme_domain.tokens.introspect_token import IntrospectionQuery, IntrospectToken
from neodyme_domain.use_cases import (
    GetCurrentUser,
    Logout,
    LogoutCommand,
    Registered,
)
from tests.unit.domain.helpers import delete_user, set_active

SECRET = "orders-secret-with-enough-entropy"
CLIENTS = {"orders": hashlib.sha256(SECRET.encode()).hexdigest()}
LIMITS = ThrottleLimits(max_failures=3, first_lockout=timedelta(minutes=1))
ADDRESS = "203.0.113.7"


@pytest.fixture
def introspect(
    database: MemoryDatabase, get_current_user: GetCurrentUser, clock: ManualClock
) -> IntrospectToken:
    uow = InMemoryUnitOfWork(database)
    return IntrospectToken(
        uow=uow,
        current_user=get_current_user,
        clients=CLIENTS,
        clock=clock,
        limits=LIMITS,
        reader=InMemoryUnitOfWork(database, read_only=True),
    )


def asked(token: str, *, client: str = "orders", secret: str = SECRET) -> IntrospectionQuery:
    return IntrospectionQuery(client, secret, token, ADDRESS)


async def test_a_live_token_answers_its_claims(
    introspect: IntrospectToken, alice: Registered
) -> None:
    claims = await introspect(asked(alice.tokens.access_token))
    assert claims is not None
    assert claims.user_id == alice.user.id
    assert claims.session_id
    assert claims.expires_at > claims.issued_at


async def test_any_dead_token_answers_nothing(
    introspect: IntrospectToken,
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
    logout: Logout,
    tokens: JwtTokenService,
) -> None:
    assert await introspect(asked("not-a-token")) is None
    assert await introspect(asked(alice.tokens.refresh_token)) is None  # not for resource servers
    await logout(LogoutCommand(alice.tokens.refresh_token))
    assert await introspect(asked(alice.tokens.access_token)) is None  # session ended
    await set_active(database, bob.user.id, active=False)
    assert await introspect(asked(bob.tokens.access_token)) is None


async def test_a_deleted_users_or_an_expired_token_answers_nothing(
    introspect: IntrospectToken, alice: Registered, database: MemoryDatabase, clock: ManualClock
) -> None:
    live = alice.tokens.access_token
    clock.advance(timedelta(hours=1))
    assert await introspect(asked(live)) is None
    clock.advance(-timedelta(hours=1))
    await delete_user(database, alice.user.id)
    assert await introspect(asked(live)) is None


@pytest.mark.parametrize(
    ("client", "secret"), [("orders", SECRET + "x"), ("nobody", SECRET), ("", "")]
)
async def test_a_wrong_client_is_refused_the_same_way(
    introspect: IntrospectToken, alice: Registered, client: str, secret: str
) -> None:
    with pytest.raises(InvalidClient) as refused:
        await introspect(asked(alice.tokens.access_token, client=client, secret=secret))
    assert refused.value.message == InvalidClient.default_message


async def test_guessing_secrets_locks_the_address_out_even_for_the_right_one(
    introspect: IntrospectToken, alice: Registered, clock: ManualClock
) -> None:
    for _ in range(LIMITS.max_failures):
        with pytest.raises(InvalidClient):
            await introspect(asked(alice.tokens.access_token, secret="guess"))
    with pytest.raises(TooManyAttempts) as locked:
        await introspect(asked(alice.tokens.access_token))
    assert locked.value.retry_after > 0
    other = IntrospectionQuery("orders", SECRET, alice.tokens.access_token, "198.51.100.9")
    assert await introspect(other) is not None  # another address is not locked
    clock.advance(LIMITS.first_lockout)  # the token (15 minutes) is still live
    assert await introspect(asked(alice.tokens.access_token)) is not None


async def test_a_few_failures_do_not_lock_the_right_secret_out(
    introspect: IntrospectToken, alice: Registered
) -> None:
    with pytest.raises(InvalidClient):
        await introspect(asked(alice.tokens.access_token, secret="typo"))
    assert await introspect(asked(alice.tokens.access_token)) is not None
