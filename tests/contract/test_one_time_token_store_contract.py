"""OneTimeTokenStore, through the UnitOfWork, for every adapter."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from neodyme_domain.model import User
from neodyme_domain.tokens.model import OneTimePurpose, OneTimeTokenRecord
from tests.contract.conftest import UowFactory
from tests.support.builders import a_one_time_token, utc_now


async def add(uow_factory: UowFactory, *records: OneTimeTokenRecord) -> None:
    async with uow_factory() as uow:
        for record in records:
            await uow.one_time_tokens.add(record)
        await uow.commit()


async def get(uow_factory: UowFactory, token_digest: str) -> OneTimeTokenRecord | None:
    async with uow_factory() as uow:
        return await uow.one_time_tokens.get(token_digest)


async def mark_used(uow_factory: UowFactory, token_digest: str, at: datetime) -> bool:
    async with uow_factory() as uow:
        won = await uow.one_time_tokens.mark_used(token_digest, at)
        await uow.commit()
    return won


@pytest.mark.parametrize("purpose", list(OneTimePurpose))
async def test_added_token_round_trips_every_field(
    uow_factory: UowFactory, owner: User, purpose: OneTimePurpose
) -> None:
    created = datetime(2024, 3, 10, 8, 0, 0, 654321, tzinfo=UTC)
    record = a_one_time_token(owner.id, purpose=purpose, user_stamp=7, created_at=created)
    await add(uow_factory, record)

    found = await get(uow_factory, record.token_digest)

    assert found == record
    assert found is not None
    assert found.purpose is purpose  # the enum member, not its string
    assert isinstance(found.user_stamp, int)
    assert found.created_at == created
    assert found.expires_at == created + timedelta(hours=1)
    for value in (found.created_at, found.expires_at):
        assert value.utcoffset() == timedelta(0)
    assert found.used_at is None


async def test_a_token_stored_already_used_keeps_its_use_time(
    uow_factory: UowFactory, owner: User
) -> None:
    used_at = datetime(2024, 7, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    record = replace(a_one_time_token(owner.id), used_at=used_at)
    await add(uow_factory, record)

    found = await get(uow_factory, record.token_digest)

    assert found == record
    assert found is not None
    assert found.used_at == used_at  # the same instant, whatever offset it comes back in
    assert found.used_at.utcoffset() is not None
    assert await mark_used(uow_factory, record.token_digest, utc_now()) is False


async def test_get_of_unknown_digest_returns_none(uow_factory: UowFactory, owner: User) -> None:
    await add(uow_factory, a_one_time_token(owner.id))
    assert await get(uow_factory, "0" * 64) is None


async def test_token_added_without_commit_is_gone(uow_factory: UowFactory, owner: User) -> None:
    record = a_one_time_token(owner.id)
    async with uow_factory() as uow:
        await uow.one_time_tokens.add(record)
        assert await uow.one_time_tokens.get(record.token_digest) == record

    assert await get(uow_factory, record.token_digest) is None


async def test_mark_used_succeeds_once_then_fails(uow_factory: UowFactory, owner: User) -> None:
    record = a_one_time_token(owner.id)
    await add(uow_factory, record)
    first_use = utc_now()

    assert await mark_used(uow_factory, record.token_digest, first_use) is True
    assert await mark_used(uow_factory, record.token_digest, first_use + timedelta(1)) is False

    found = await get(uow_factory, record.token_digest)
    assert found == replace(record, used_at=first_use)


async def test_mark_used_touches_only_its_token(uow_factory: UowFactory, owner: User) -> None:
    used, untouched = a_one_time_token(owner.id), a_one_time_token(owner.id)
    await add(uow_factory, used, untouched)

    assert await mark_used(uow_factory, used.token_digest, utc_now()) is True

    assert await get(uow_factory, untouched.token_digest) == untouched


async def test_mark_used_of_unknown_token_is_false(uow_factory: UowFactory, owner: User) -> None:
    assert await mark_used(uow_factory, "f" * 64, utc_now()) is False


async def test_mark_used_is_undone_by_rollback(uow_factory: UowFactory, owner: User) -> None:
    record = a_one_time_token(owner.id)
    await add(uow_factory, record)
    async with uow_factory() as uow:
        assert await uow.one_time_tokens.mark_used(record.token_digest, utc_now()) is True
        assert await uow.one_time_tokens.mark_used(record.token_digest, utc_now()) is False

    assert await get(uow_factory, record.token_digest) == record
    assert await mark_used(uow_factory, record.token_digest, utc_now()) is True


async def test_concurrent_mark_used_lets_exactly_one_caller_win(
    uow_factory: UowFactory, owner: User
) -> None:
    record = a_one_time_token(owner.id)
    await add(uow_factory, record)
    now = utc_now()

    outcomes = await asyncio.gather(
        *(
            mark_used(uow_factory, record.token_digest, now + timedelta(seconds=i))
            for i in range(10)
        )
    )

    assert sorted(outcomes) == [False] * 9 + [True]
    found = await get(uow_factory, record.token_digest)
    assert found is not None
    assert found.used_at == now + timedelta(seconds=outcomes.index(True))


async def test_an_email_change_link_keeps_its_new_address(
    uow_factory: UowFactory, owner: User
) -> None:
    record = replace(
        a_one_time_token(owner.id, purpose=OneTimePurpose.EMAIL_CHANGE),
        new_email="New.Address@example.org",
    )
    await add(uow_factory, record)

    assert await get(uow_factory, record.token_digest) == record
