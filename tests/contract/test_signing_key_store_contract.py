"""SigningKeyStore, through the UnitOfWork, for every adapter: keys by generation, a taken
generation refused without an error (two rotations at once add one key), deletion by kid."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from neodyme_domain.tokens.signing_keys import SigningAlgorithm, SigningKey
from tests.contract.conftest import UowFactory

START = datetime(2031, 5, 4, 10, 0, 0, 123456, tzinfo=UTC)


def a_key(generation: int, **changes: object) -> SigningKey:
    key = SigningKey(
        kid=secrets.token_urlsafe(32),
        generation=generation,
        algorithm=SigningAlgorithm.EDDSA,
        public_jwk='{"kty": "OKP"}',
        sealed_private_key=secrets.token_urlsafe(120),
        created_at=START,
        active_from=START + timedelta(minutes=generation),
    )
    return replace(key, **changes)  # type: ignore[arg-type]


async def add(uow_factory: UowFactory, key: SigningKey) -> bool:
    async with uow_factory() as uow:
        added = await uow.signing_keys.add(key)
        await uow.commit()
    return added


async def all_keys(uow_factory: UowFactory) -> list[SigningKey]:
    async with uow_factory() as uow:
        return await uow.signing_keys.all()


async def test_keys_round_trip_oldest_generation_first(uow_factory: UowFactory) -> None:
    second, first = a_key(2, algorithm=SigningAlgorithm.ES256), a_key(1)
    for key in (second, first):
        assert await add(uow_factory, key) is True
    assert await all_keys(uow_factory) == [first, second]


async def test_a_taken_generation_is_refused_and_the_transaction_goes_on(
    uow_factory: UowFactory,
) -> None:
    first = a_key(1)
    await add(uow_factory, first)
    async with uow_factory() as uow:
        assert await uow.signing_keys.add(a_key(1)) is False
        assert await uow.signing_keys.add(a_key(2)) is True
        await uow.commit()
    assert [key.generation for key in await all_keys(uow_factory)] == [1, 2]
    assert (await all_keys(uow_factory))[0] == first


async def test_two_rotations_at_once_add_one_key(uow_factory: UowFactory) -> None:
    added = await asyncio.gather(add(uow_factory, a_key(1)), add(uow_factory, a_key(1)))
    assert sorted(added) == [False, True]
    assert len(await all_keys(uow_factory)) == 1


async def test_keys_are_deleted_by_kid(uow_factory: UowFactory) -> None:
    keys = [a_key(generation) for generation in (1, 2, 3)]
    for key in keys:
        await add(uow_factory, key)
    async with uow_factory() as uow:
        await uow.signing_keys.delete([keys[0].kid, keys[1].kid, "unknown"])
        await uow.commit()
    assert await all_keys(uow_factory) == [keys[2]]


async def test_a_resealed_key_keeps_everything_else(uow_factory: UowFactory) -> None:
    key, other = a_key(1), a_key(2)
    for each in (key, other):
        await add(uow_factory, each)
    async with uow_factory() as uow:
        await uow.signing_keys.reseal(key.kid, "sealed-anew")
        await uow.commit()
    assert await all_keys(uow_factory) == [replace(key, sealed_private_key="sealed-anew"), other]
