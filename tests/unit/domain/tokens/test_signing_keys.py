"""Signing keys by generation: their states over a key's life, the next generation, and
the use cases that rotate, ensure and list them (over the in-memory store, with the real
key maker and secret box)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.fernet_box import FernetSecretBox
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_adapters.signing_keys import JoseKeyMaker
from neodyme_domain.errors import ServiceUnavailable
from neodyme_domain.tokens.ensure_signing_key import EnsureSigningKey
from neodyme_domain.tokens.list_signing_keys import ListSigningKeys
from neodyme_domain.tokens.reseal_signing_keys import ResealSigningKeys
from neodyme_domain.tokens.rotate_signing_key import RotateSigningKey
from neodyme_domain.tokens.signing_keys import (
    KeyMaterial,
    KeyState,
    SigningAlgorithm,
    SigningKey,
    key_statuses,
    next_key,
)

T0 = datetime(2031, 1, 1, tzinfo=UTC)
LIFETIME = timedelta(minutes=15)
AHEAD = timedelta(seconds=60)
EDDSA = SigningAlgorithm.EDDSA


def a_key(generation: int, active_from: datetime) -> SigningKey:
    return SigningKey(
        kid=f"kid-{generation}",
        generation=generation,
        algorithm=EDDSA,
        public_jwk="{}",
        sealed_private_key="sealed",
        created_at=active_from,
        active_from=active_from,
    )


def states(keys: list[SigningKey], now: datetime) -> dict[str, KeyState]:
    return {s.key.kid: s.state for s in key_statuses(keys, now, LIFETIME)}


def test_a_key_waits_then_signs_then_verifies_then_retires() -> None:
    first, second = a_key(1, T0), a_key(2, T0 + timedelta(hours=1))
    keys = [first, second]

    assert states(keys, T0) == {"kid-1": KeyState.SIGNING, "kid-2": KeyState.PENDING}
    handover = second.active_from
    assert states(keys, handover) == {"kid-1": KeyState.VERIFYING, "kid-2": KeyState.SIGNING}
    last_token_expires = handover + LIFETIME
    assert states(keys, last_token_expires - timedelta(microseconds=1))["kid-1"] is (
        KeyState.VERIFYING
    )
    assert states(keys, last_token_expires)["kid-1"] is KeyState.RETIRED
    [_, retired] = key_statuses(keys, last_token_expires, LIFETIME)
    assert retired.retires_at == last_token_expires
    assert not retired.published


def test_statuses_come_newest_first_and_nothing_signs_before_any_key_is_active() -> None:
    keys = [a_key(1, T0), a_key(3, T0 + timedelta(hours=2)), a_key(2, T0 + timedelta(hours=1))]
    assert [s.key.generation for s in key_statuses(keys, T0, LIFETIME)] == [3, 2, 1]
    assert all(s.state is KeyState.PENDING for s in key_statuses(keys, T0 - timedelta(1), LIFETIME))


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=7200), min_size=1, max_size=6),
    at=st.integers(min_value=-100, max_value=60_000),
)
def test_at_most_one_key_signs_and_every_token_a_published_key_signed_still_verifies(
    gaps: list[int], at: int
) -> None:
    keys, start = [], T0
    for generation, gap in enumerate(gaps, start=1):
        start += timedelta(seconds=gap)
        keys.append(a_key(generation, start))
    now = T0 + timedelta(seconds=at)
    statuses = key_statuses(keys, now, LIFETIME)
    signing = [s for s in statuses if s.state is KeyState.SIGNING]
    assert len(signing) <= 1
    if signing:  # the newest active generation
        active = [k for k in keys if k.active_from <= now]
        assert signing[0].key == max(active, key=lambda k: k.generation)
    for status in statuses:
        if status.state is KeyState.VERIFYING:
            assert status.retires_at is not None
            assert status.retires_at > now


def test_the_next_generation_takes_over_in_order() -> None:
    material = KeyMaterial("kid-new", "{}", "pem")
    first = next_key([], material, EDDSA, "sealed", now=T0, active_from=T0)
    assert (first.generation, first.active_from) == (1, T0)
    later = a_key(1, T0 + timedelta(hours=1))  # a pending key waits for a later time
    second = next_key([later], material, EDDSA, "sealed", now=T0, active_from=T0)
    assert (second.generation, second.active_from) == (2, later.active_from)


@pytest.fixture
def rotate(database: MemoryDatabase, clock: ManualClock) -> RotateSigningKey:
    return RotateSigningKey(
        uow=InMemoryUnitOfWork(database),
        maker=JoseKeyMaker(),
        box=FernetSecretBox([Fernet.generate_key()]),
        clock=clock,
        lifetime=LIFETIME,
        publish_ahead=AHEAD,
    )


@pytest.fixture
def listing(database: MemoryDatabase, clock: ManualClock) -> ListSigningKeys:
    return ListSigningKeys(uow=InMemoryUnitOfWork(database), clock=clock, lifetime=LIFETIME)


async def test_a_rotated_key_is_published_ahead_and_the_old_one_retires_then_goes(
    rotate: RotateSigningKey, listing: ListSigningKeys, clock: ManualClock
) -> None:
    first = await rotate(EDDSA, at_once=True)
    assert first.active_from == clock.now()
    second = await rotate(EDDSA)
    assert second.active_from == clock.now() + AHEAD
    assert [(s.key.kid, s.state) for s in await listing()] == [
        (second.kid, KeyState.PENDING),
        (first.kid, KeyState.SIGNING),
    ]
    clock.advance(AHEAD + LIFETIME)
    assert [s.state for s in await listing()] == [KeyState.SIGNING, KeyState.RETIRED]
    third = await rotate(SigningAlgorithm.ES256)  # deletes the retired row
    assert [s.key.kid for s in await listing()] == [third.kid, second.kid]
    assert third.algorithm is SigningAlgorithm.ES256


async def test_the_private_key_is_stored_sealed(
    rotate: RotateSigningKey, database: MemoryDatabase
) -> None:
    key = await rotate(EDDSA, at_once=True)
    [stored] = database.state.signing_keys.values()
    assert stored.sealed_private_key == key.sealed_private_key
    assert "PRIVATE KEY" not in stored.sealed_private_key


async def test_a_rotation_judged_against_a_generation_that_moved_adds_nothing(
    rotate: RotateSigningKey, database: MemoryDatabase
) -> None:
    await rotate(EDDSA, at_once=True)
    with pytest.raises(ServiceUnavailable):
        await rotate(EDDSA, after=0)  # its caller saw no key
    assert len(database.state.signing_keys) == 1


async def test_ensure_adds_a_key_only_for_a_new_install_or_a_new_algorithm(
    rotate: RotateSigningKey, database: MemoryDatabase, listing: ListSigningKeys
) -> None:
    ensure = EnsureSigningKey(uow=InMemoryUnitOfWork(database), rotate=rotate)
    assert await ensure(EDDSA) is True
    assert await ensure(EDDSA) is False
    assert await ensure(SigningAlgorithm.ES256) is True
    [newest, older] = await listing()
    assert newest.state is KeyState.SIGNING  # active at once: nothing could need it before
    assert newest.key.algorithm is SigningAlgorithm.ES256
    assert older.state is KeyState.VERIFYING


async def test_two_processes_ensuring_at_once_add_one_key(
    rotate: RotateSigningKey, database: MemoryDatabase
) -> None:
    ensures = [EnsureSigningKey(uow=InMemoryUnitOfWork(database), rotate=rotate) for _ in "ab"]
    added = await asyncio.gather(*(ensure(EDDSA) for ensure in ensures))
    assert sorted(added) == [False, True]
    assert len(database.state.signing_keys) == 1


async def test_resealing_puts_every_private_key_under_the_newest_encryption_key(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    rotate = RotateSigningKey(
        uow=InMemoryUnitOfWork(database),
        maker=JoseKeyMaker(),
        box=FernetSecretBox([old]),
        clock=clock,
        lifetime=LIFETIME,
        publish_ahead=AHEAD,
    )
    await rotate(EDDSA, at_once=True)
    await rotate(EDDSA)
    both = FernetSecretBox([new, old])
    assert await ResealSigningKeys(uow=InMemoryUnitOfWork(database), box=both)() == 2
    only_new = FernetSecretBox([new])
    for key in database.state.signing_keys.values():
        assert "PRIVATE KEY" in only_new.open(key.sealed_private_key)
