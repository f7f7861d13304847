"""Logout: the refresh token's family ends; nothing else does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import MemoryDatabase
from neodyme_domain import InvalidToken, RequestOrigin
from neodyme_domain.tokens.model import digest
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    Logout,
    LogoutCommand,
    RefreshCommand,
    RefreshTokens,
    Registered,
)
from tests.unit.domain.helpers import PASSWORD, counts, events_of

ORIGIN = RequestOrigin(client_ip="192.0.2.77", user_agent="pytest-logout")


def logging_out(refresh_token: str) -> LogoutCommand:
    return LogoutCommand(refresh_token, origin=ORIGIN)


async def refused(logout: Logout, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as raised:
        await logout(logging_out(token))
    assert raised.value.code == "INVALID_TOKEN"
    return raised.value


async def test_logout_ends_the_session_so_its_refresh_token_no_longer_refreshes(
    logout: Logout, refresh_tokens: RefreshTokens, alice: Registered
) -> None:
    await logout(logging_out(alice.tokens.refresh_token))

    with pytest.raises(InvalidToken) as raised:
        await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))
    assert raised.value.code == "INVALID_TOKEN"


async def test_logout_revokes_every_token_of_the_family_including_rotated_ones(
    logout: Logout,
    refresh_tokens: RefreshTokens,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(minutes=1))
    rotated = await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))
    clock.advance(timedelta(minutes=1))

    await logout(logging_out(rotated.refresh_token))

    records = database.state.refresh_tokens.values()
    assert len(records) == 2
    assert all(record.revoked_at == clock.now() for record in records)
    with pytest.raises(InvalidToken):
        await refresh_tokens(RefreshCommand(rotated.refresh_token))


async def test_logout_with_an_already_rotated_token_still_ends_its_family(
    logout: Logout, refresh_tokens: RefreshTokens, alice: Registered
) -> None:
    # The client may hold on to an older token of the chain; logging out with it must not
    # leave the newest one alive.
    rotated = await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))

    await logout(logging_out(alice.tokens.refresh_token))

    with pytest.raises(InvalidToken):
        await refresh_tokens(RefreshCommand(rotated.refresh_token))


async def test_logout_leaves_the_users_other_sessions_and_other_users_alone(
    logout: Logout,
    refresh_tokens: RefreshTokens,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    bob: Registered,
    tokens: JwtTokenService,
) -> None:
    phone = await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))

    await logout(logging_out(alice.tokens.refresh_token))

    still_phone = await refresh_tokens(RefreshCommand(phone.tokens.refresh_token))
    still_bob = await refresh_tokens(RefreshCommand(bob.tokens.refresh_token))
    assert tokens.decode_refresh(still_phone.refresh_token).user_id == alice.user.id
    assert tokens.decode_refresh(still_bob.refresh_token).user_id == bob.user.id


async def test_logout_is_recorded_with_its_origin(
    logout: Logout, alice: Registered, database: MemoryDatabase, clock: ManualClock
) -> None:
    clock.advance(timedelta(seconds=30))

    await logout(logging_out(alice.tokens.refresh_token))

    [event] = events_of(database, "logout")
    assert event.user_id == alice.user.id
    assert event.occurred_at == clock.now()
    assert (event.client_ip, event.user_agent) == ("192.0.2.77", "pytest-logout")


async def test_logging_out_twice_is_an_invalid_token_and_records_nothing_more(
    logout: Logout, alice: Registered, database: MemoryDatabase
) -> None:
    await logout(logging_out(alice.tokens.refresh_token))
    before = counts(database)

    await refused(logout, alice.tokens.refresh_token)

    assert counts(database) == before
    assert len(events_of(database, "logout")) == 1


async def test_logout_with_an_access_token_is_an_invalid_token(
    logout: Logout, alice: Registered, database: MemoryDatabase
) -> None:
    await refused(logout, alice.tokens.access_token)

    record = database.state.refresh_tokens[digest(alice.tokens.refresh_token)]
    assert record.revoked_at is None
    assert events_of(database, "logout") == []


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
async def test_logout_with_garbage_is_an_invalid_token(logout: Logout, garbage: str) -> None:
    await refused(logout, garbage)


async def test_logout_with_a_well_signed_but_never_issued_token_is_an_invalid_token(
    logout: Logout,
    alice: Registered,
    tokens: JwtTokenService,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    family = tokens.decode_refresh(alice.tokens.refresh_token).family_id
    forged = tokens.issue_refresh(
        alice.user.id, family, "never-issued", clock.now(), clock.now() + timedelta(days=1)
    )

    await refused(logout, forged)

    # Knowing a family id is not enough to end someone's session.
    record = database.state.refresh_tokens[digest(alice.tokens.refresh_token)]
    assert record.revoked_at is None


async def test_logout_with_an_expired_refresh_token_is_an_invalid_token(
    logout: Logout, alice: Registered, tokens: JwtTokenService, clock: ManualClock
) -> None:
    clock.advance(tokens.refresh_ttl)

    error = await refused(logout, alice.tokens.refresh_token)

    assert error.context["reason"] == "expired"
