"""GetCurrentUser: the check behind every protected request. A valid signature is not
enough; the account must still exist and be active."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import InvalidToken
from neodyme_domain.use_cases import CurrentUserQuery, GetCurrentUser, Registered
from tests.unit.domain.helpers import delete_user, set_active


async def rejected(get_current_user: GetCurrentUser, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as raised:
        await get_current_user(CurrentUserQuery(token))
    assert raised.value.code == "INVALID_TOKEN"
    return raised.value


async def test_a_valid_access_token_resolves_to_its_user(
    get_current_user: GetCurrentUser, alice: Registered
) -> None:
    user = await get_current_user(CurrentUserQuery(alice.tokens.access_token))

    assert user == alice.user


async def test_the_user_is_read_from_the_store_not_from_the_token(
    get_current_user: GetCurrentUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(minutes=1))
    async with InMemoryUnitOfWork(database) as uow:
        user = await uow.users.get(alice.user.id)
        assert user is not None
        user.rename("Alice Pleasance Liddell", clock.now())
        await uow.users.update(user)
        await uow.commit()

    current = await get_current_user(CurrentUserQuery(alice.tokens.access_token))

    assert current.full_name == "Alice Pleasance Liddell"
    assert current.updated_at == clock.now()


async def test_an_access_token_is_valid_until_just_before_it_expires(
    get_current_user: GetCurrentUser,
    alice: Registered,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    clock.advance(tokens.access_ttl - timedelta(seconds=1))

    user = await get_current_user(CurrentUserQuery(alice.tokens.access_token))

    assert user.id == alice.user.id


@pytest.mark.parametrize("past_expiry", [timedelta(0), timedelta(seconds=1), timedelta(days=1)])
async def test_an_expired_access_token_is_invalid(
    get_current_user: GetCurrentUser,
    alice: Registered,
    tokens: JwtTokenService,
    clock: ManualClock,
    past_expiry: timedelta,
) -> None:
    clock.advance(tokens.access_ttl + past_expiry)

    error = await rejected(get_current_user, alice.tokens.access_token)

    assert error.context["reason"] == "expired"


async def test_a_refresh_token_does_not_open_protected_requests(
    get_current_user: GetCurrentUser, alice: Registered
) -> None:
    error = await rejected(get_current_user, alice.tokens.refresh_token)

    assert error.context["reason"] == "wrong type"


@pytest.mark.parametrize("garbage", ["", "Bearer", "not.a.jwt", "a" * 500])
async def test_garbage_is_an_invalid_token(get_current_user: GetCurrentUser, garbage: str) -> None:
    await rejected(get_current_user, garbage)


async def test_a_token_signed_with_another_secret_is_invalid(
    get_current_user: GetCurrentUser, alice: Registered, clock: ManualClock
) -> None:
    forger = JwtTokenService(secret="another-secret-that-is-long-enough!!", clock=clock)

    await rejected(get_current_user, forger.issue_access(alice.user, clock.now(), "session-1"))


async def test_a_token_from_another_issuer_is_invalid(
    get_current_user: GetCurrentUser, alice: Registered, clock: ManualClock, jwt_secret: str
) -> None:
    other = JwtTokenService(secret=jwt_secret, clock=clock, issuer="someone-else")

    await rejected(get_current_user, other.issue_access(alice.user, clock.now(), "session-1"))


async def test_a_token_of_a_user_deleted_since_it_was_issued_is_invalid(
    get_current_user: GetCurrentUser, alice: Registered, database: MemoryDatabase
) -> None:
    await delete_user(database, alice.user.id)

    error = await rejected(get_current_user, alice.tokens.access_token)

    assert error.context["user_id"] == alice.user.id


async def test_a_token_of_a_user_deactivated_since_it_was_issued_is_invalid(
    get_current_user: GetCurrentUser, alice: Registered, database: MemoryDatabase
) -> None:
    await set_active(database, alice.user.id, active=False)

    error = await rejected(get_current_user, alice.tokens.access_token)

    assert error.context["user_id"] == alice.user.id
