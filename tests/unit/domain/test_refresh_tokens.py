"""RefreshTokens: rotation, reuse detection, and a family's absolute expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import InvalidToken, TokenReused
from neodyme_domain.messages import RequestOrigin
from neodyme_domain.tokens.model import digest
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    GetCurrentUser,
    RefreshCommand,
    RefreshTokens,
    Registered,
)
from neodyme_domain.use_cases.get_current_user import CurrentUserQuery
from tests.unit.domain.helpers import PASSWORD, delete_user, events_of, set_active


def refresh(token: str) -> RefreshCommand:
    return RefreshCommand(token, origin=RequestOrigin(client_ip="198.51.100.4"))


async def test_refresh_returns_a_new_pair_with_a_different_refresh_token(
    refresh_tokens: RefreshTokens, alice: Registered, tokens: JwtTokenService
) -> None:
    pair = await refresh_tokens(refresh(alice.tokens.refresh_token))

    assert pair.token_type == "bearer"
    assert pair.expires_in == 900
    assert pair.refresh_token != alice.tokens.refresh_token
    assert pair.access_token != alice.tokens.access_token
    assert tokens.decode_access(pair.access_token).user_id == alice.user.id
    old = tokens.decode_refresh(alice.tokens.refresh_token)
    new = tokens.decode_refresh(pair.refresh_token)
    assert new.family_id == old.family_id
    assert new.token_id != old.token_id
    # 16 random bytes each (128 bits), in URL-safe base64.
    assert len(new.token_id) == len(new.family_id) == 22


async def test_the_new_refresh_token_is_remembered_with_its_family_and_times(
    refresh_tokens: RefreshTokens,
    alice: Registered,
    database: MemoryDatabase,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(minutes=20))

    pair = await refresh_tokens(refresh(alice.tokens.refresh_token))

    record = database.state.refresh_tokens[digest(pair.refresh_token)]
    claims = tokens.decode_refresh(pair.refresh_token)
    assert (record.user_id, record.family_id) == (alice.user.id, claims.family_id)
    assert record.issued_at == clock.now()
    assert record.expires_at == claims.expires_at
    assert record.used_at is record.revoked_at is None


async def test_refresh_marks_the_presented_token_used(
    refresh_tokens: RefreshTokens,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await refresh_tokens(refresh(alice.tokens.refresh_token))

    record = database.state.refresh_tokens[digest(alice.tokens.refresh_token)]
    assert record.used_at == clock.now()
    assert record.revoked_at is None


async def test_refresh_tokens_are_stored_as_digests_only(
    alice: Registered, database: MemoryDatabase
) -> None:
    assert alice.tokens.refresh_token not in database.state.refresh_tokens
    assert digest(alice.tokens.refresh_token) in database.state.refresh_tokens


async def test_a_chain_of_rotations_keeps_working(
    refresh_tokens: RefreshTokens,
    get_current_user: GetCurrentUser,
    alice: Registered,
    clock: ManualClock,
) -> None:
    token = alice.tokens.refresh_token
    for _ in range(5):
        clock.advance(timedelta(minutes=14))
        pair = await refresh_tokens(refresh(token))
        token = pair.refresh_token
        user = await get_current_user(CurrentUserQuery(pair.access_token))
        assert user.id == alice.user.id


async def test_reused_refresh_token_revokes_the_whole_family(
    refresh_tokens: RefreshTokens, alice: Registered, database: MemoryDatabase
) -> None:
    first = alice.tokens.refresh_token
    second = (await refresh_tokens(refresh(first))).refresh_token

    with pytest.raises(TokenReused) as raised:
        await refresh_tokens(refresh(first))

    assert raised.value.code == "TOKEN_REUSED"
    with pytest.raises(InvalidToken) as raised_new:
        await refresh_tokens(refresh(second))
    assert raised_new.value.code == "INVALID_TOKEN"
    family = {r.family_id for r in database.state.refresh_tokens.values()}
    assert len(family) == 1
    assert all(r.revoked_at is not None for r in database.state.refresh_tokens.values())


async def test_reuse_is_recorded_for_the_audit_trail(
    refresh_tokens: RefreshTokens,
    alice: Registered,
    database: MemoryDatabase,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    first = alice.tokens.refresh_token
    family_id = tokens.decode_refresh(first).family_id
    await refresh_tokens(refresh(first))
    clock.advance(timedelta(minutes=2))

    with pytest.raises(TokenReused) as raised:
        await refresh_tokens(refresh(first))

    assert raised.value.context == {"family_id": family_id}
    [event] = events_of(database, "refresh_token_reused")
    assert event.user_id == alice.user.id
    assert event.client_ip == "198.51.100.4"
    assert event.occurred_at == clock.now()
    assert event.data == {"family_id": family_id}


async def test_a_token_of_a_revoked_family_presented_again_is_invalid(
    refresh_tokens: RefreshTokens, alice: Registered
) -> None:
    first = alice.tokens.refresh_token
    await refresh_tokens(refresh(first))
    with pytest.raises(TokenReused):
        await refresh_tokens(refresh(first))

    with pytest.raises(InvalidToken):
        await refresh_tokens(refresh(first))


async def test_two_logins_are_independent_families(
    refresh_tokens: RefreshTokens,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    tokens: JwtTokenService,
) -> None:
    laptop = await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))
    phone = await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))
    assert (
        tokens.decode_refresh(laptop.tokens.refresh_token).family_id
        != tokens.decode_refresh(phone.tokens.refresh_token).family_id
    )

    await refresh_tokens(refresh(laptop.tokens.refresh_token))
    with pytest.raises(TokenReused):
        await refresh_tokens(refresh(laptop.tokens.refresh_token))

    pair = await refresh_tokens(refresh(phone.tokens.refresh_token))
    assert tokens.decode_refresh(pair.refresh_token).user_id == alice.user.id


async def test_an_access_token_is_not_a_refresh_token(
    refresh_tokens: RefreshTokens, alice: Registered
) -> None:
    with pytest.raises(InvalidToken):
        await refresh_tokens(refresh(alice.tokens.access_token))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    ],
)
async def test_garbage_is_an_invalid_token(refresh_tokens: RefreshTokens, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        await refresh_tokens(refresh(garbage))


async def test_a_refresh_token_signed_with_another_secret_is_invalid(
    refresh_tokens: RefreshTokens, alice: Registered, clock: ManualClock
) -> None:
    forger = JwtTokenService(secret="another-secret-that-is-long-enough!!", clock=clock)
    token = forger.issue_refresh(
        alice.user.id, "family", "token", clock.now(), clock.now() + timedelta(days=1)
    )

    with pytest.raises(InvalidToken):
        await refresh_tokens(refresh(token))


async def test_a_well_signed_refresh_token_that_was_never_issued_is_invalid(
    refresh_tokens: RefreshTokens,
    alice: Registered,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    token = tokens.issue_refresh(
        alice.user.id, "unknown-family", "t1", clock.now(), clock.now() + timedelta(days=1)
    )

    with pytest.raises(InvalidToken):
        await refresh_tokens(refresh(token))


async def test_refresh_for_a_deactivated_user_is_invalid(
    refresh_tokens: RefreshTokens, alice: Registered, database: MemoryDatabase
) -> None:
    await set_active(database, alice.user.id, active=False)

    with pytest.raises(InvalidToken):
        await refresh_tokens(refresh(alice.tokens.refresh_token))

    # Refused without being consumed: nothing about the family was written.
    record = database.state.refresh_tokens[digest(alice.tokens.refresh_token)]
    assert record.used_at is None


async def test_refresh_for_a_deleted_user_is_invalid(
    refresh_tokens: RefreshTokens, alice: Registered, database: MemoryDatabase
) -> None:
    await delete_user(database, alice.user.id)

    with pytest.raises(InvalidToken):
        await refresh_tokens(refresh(alice.tokens.refresh_token))


async def test_rotation_keeps_the_family_absolute_expiry(
    refresh_tokens: RefreshTokens,
    alice: Registered,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    registered_at = clock.now()
    first = tokens.decode_refresh(alice.tokens.refresh_token)

    clock.advance(timedelta(days=1))
    second = await refresh_tokens(refresh(alice.tokens.refresh_token))
    clock.advance(timedelta(days=10))
    third = await refresh_tokens(refresh(second.refresh_token))

    assert first.expires_at == registered_at + timedelta(days=30)
    assert tokens.decode_refresh(second.refresh_token).expires_at == first.expires_at
    assert tokens.decode_refresh(third.refresh_token).expires_at == first.expires_at


async def test_a_family_ends_at_its_absolute_expiry_however_often_it_rotated(
    refresh_tokens: RefreshTokens, alice: Registered, clock: ManualClock
) -> None:
    token = alice.tokens.refresh_token
    for _ in range(29):
        clock.advance(timedelta(days=1))
        token = (await refresh_tokens(refresh(token))).refresh_token

    clock.advance(timedelta(days=1))
    with pytest.raises(InvalidToken):
        await refresh_tokens(refresh(token))


async def test_an_expired_refresh_token_is_invalid(
    refresh_tokens: RefreshTokens,
    alice: Registered,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    clock.advance(tokens.refresh_ttl + timedelta(seconds=1))

    with pytest.raises(InvalidToken) as raised:
        await refresh_tokens(refresh(alice.tokens.refresh_token))

    assert raised.value.context["reason"] == "expired"


async def test_a_refresh_token_is_valid_until_just_before_its_expiry(
    refresh_tokens: RefreshTokens,
    alice: Registered,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    clock.advance(tokens.refresh_ttl - timedelta(seconds=1))

    pair = await refresh_tokens(refresh(alice.tokens.refresh_token))

    assert pair.refresh_token


async def test_a_leeway_never_keeps_a_refresh_token_past_its_stored_expiry(
    alice: Registered,
    database: MemoryDatabase,
    jwt_secret: str,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    lenient = JwtTokenService(secret=jwt_secret, clock=clock, leeway=timedelta(seconds=30))
    refresh_lenient = RefreshTokens(uow=InMemoryUnitOfWork(database), tokens=lenient, clock=clock)
    clock.advance(tokens.refresh_ttl)  # the signature still passes, within the leeway

    with pytest.raises(InvalidToken):
        await refresh_lenient(refresh(alice.tokens.refresh_token))
