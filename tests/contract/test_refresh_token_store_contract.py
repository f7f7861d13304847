"""RefreshTokenStore, through the UnitOfWork, for every adapter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from neodyme_domain.model import User
from neodyme_domain.tokens.model import RefreshTokenRecord
from tests.contract.conftest import UowFactory
from tests.support.builders import a_refresh_token, a_user, utc_now


async def add(uow_factory: UowFactory, *records: RefreshTokenRecord) -> None:
    async with uow_factory() as uow:
        for record in records:
            await uow.refresh_tokens.add(record)
        await uow.commit()


async def get(uow_factory: UowFactory, token_digest: str) -> RefreshTokenRecord | None:
    async with uow_factory() as uow:
        return await uow.refresh_tokens.get(token_digest)


async def mark_used(uow_factory: UowFactory, token_digest: str, at: datetime) -> bool:
    async with uow_factory() as uow:
        won = await uow.refresh_tokens.mark_used(token_digest, at)
        await uow.commit()
    return won


async def revoke_family(uow_factory: UowFactory, family_id: str, at: datetime) -> None:
    async with uow_factory() as uow:
        await uow.refresh_tokens.revoke_family(family_id, at)
        await uow.commit()


async def test_added_token_can_be_read_back(uow_factory: UowFactory, owner: User) -> None:
    issued = datetime(2024, 3, 10, 8, 0, 0, 654321, tzinfo=UTC)
    record = a_refresh_token(owner.id, issued_at=issued)
    await add(uow_factory, record)

    found = await get(uow_factory, record.token_digest)

    assert found == record
    assert found is not None
    assert found.issued_at.utcoffset() == timedelta(0)
    assert found.used_at is None
    assert found.revoked_at is None


async def test_get_of_unknown_digest_returns_none(uow_factory: UowFactory, owner: User) -> None:
    await add(uow_factory, a_refresh_token(owner.id))
    assert await get(uow_factory, "0" * 64) is None


async def test_token_added_without_commit_is_gone(uow_factory: UowFactory, owner: User) -> None:
    record = a_refresh_token(owner.id)
    async with uow_factory() as uow:
        await uow.refresh_tokens.add(record)

    assert await get(uow_factory, record.token_digest) is None


async def test_mark_used_succeeds_once_then_fails(uow_factory: UowFactory, owner: User) -> None:
    record = a_refresh_token(owner.id)
    await add(uow_factory, record)
    first_use = utc_now()

    assert await mark_used(uow_factory, record.token_digest, first_use) is True
    assert await mark_used(uow_factory, record.token_digest, first_use + timedelta(1)) is False

    found = await get(uow_factory, record.token_digest)
    assert found is not None
    assert found.used_at == first_use


async def test_mark_used_of_unknown_token_is_false(uow_factory: UowFactory, owner: User) -> None:
    assert await mark_used(uow_factory, "f" * 64, utc_now()) is False


async def test_mark_used_is_undone_by_rollback(uow_factory: UowFactory, owner: User) -> None:
    record = a_refresh_token(owner.id)
    await add(uow_factory, record)
    async with uow_factory() as uow:
        assert await uow.refresh_tokens.mark_used(record.token_digest, utc_now()) is True

    assert await mark_used(uow_factory, record.token_digest, utc_now()) is True


async def test_concurrent_mark_used_lets_exactly_one_caller_win(
    uow_factory: UowFactory, owner: User
) -> None:
    record = a_refresh_token(owner.id)
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


async def test_revoke_family_revokes_every_member_and_then_mark_used_fails(
    uow_factory: UowFactory, owner: User
) -> None:
    family = [a_refresh_token(owner.id, family_id="family-a") for _ in range(3)]
    await add(uow_factory, *family)
    assert await mark_used(uow_factory, family[0].token_digest, utc_now()) is True
    revoked_at = utc_now()

    await revoke_family(uow_factory, "family-a", revoked_at)

    for member in family:
        found = await get(uow_factory, member.token_digest)
        assert found is not None
        assert found.revoked_at == revoked_at
        assert await mark_used(uow_factory, member.token_digest, utc_now()) is False


async def test_revoke_family_leaves_other_families_untouched(
    uow_factory: UowFactory, owner: User
) -> None:
    revoked = a_refresh_token(owner.id, family_id="family-a")
    untouched = [a_refresh_token(owner.id, family_id="family-b") for _ in range(2)]
    await add(uow_factory, revoked, *untouched)

    await revoke_family(uow_factory, "family-a", utc_now())

    for record in untouched:
        assert await get(uow_factory, record.token_digest) == record
    assert await mark_used(uow_factory, untouched[0].token_digest, utc_now()) is True


async def test_revoking_a_family_again_keeps_the_first_revocation_time(
    uow_factory: UowFactory, owner: User
) -> None:
    record = a_refresh_token(owner.id, family_id="family-a")
    await add(uow_factory, record)
    first = utc_now()

    await revoke_family(uow_factory, "family-a", first)
    await revoke_family(uow_factory, "family-a", first + timedelta(hours=1))

    found = await get(uow_factory, record.token_digest)
    assert found is not None
    assert found.revoked_at == first


async def revoke_all_for_user(uow_factory: UowFactory, user: User, at: datetime) -> None:
    async with uow_factory() as uow:
        await uow.refresh_tokens.revoke_all_for_user(user.id, at)
        await uow.commit()


async def test_revoke_all_for_user_revokes_every_family_of_that_user_only(
    uow_factory: UowFactory, owner: User
) -> None:
    other = a_user("grace@example.com")
    async with uow_factory() as uow:
        await uow.users.add(other)
        await uow.commit()
    owned = [
        a_refresh_token(owner.id, family_id="family-a"),
        a_refresh_token(owner.id, family_id="family-a"),
        a_refresh_token(owner.id, family_id="family-b"),
    ]
    # Another user's token, even in a family of the same name, is not touched.
    untouched = [
        a_refresh_token(other.id, family_id="family-a"),
        a_refresh_token(other.id, family_id="family-c"),
    ]
    await add(uow_factory, *owned, *untouched)
    assert await mark_used(uow_factory, owned[0].token_digest, utc_now()) is True
    revoked_at = utc_now()

    await revoke_all_for_user(uow_factory, owner, revoked_at)

    for record in owned:
        found = await get(uow_factory, record.token_digest)
        assert found is not None
        assert found.revoked_at == revoked_at
        assert await mark_used(uow_factory, record.token_digest, utc_now()) is False
    for record in untouched:
        assert await get(uow_factory, record.token_digest) == record
    assert await mark_used(uow_factory, untouched[0].token_digest, utc_now()) is True


async def test_revoke_all_for_user_keeps_earlier_revocation_times(
    uow_factory: UowFactory, owner: User
) -> None:
    earlier = a_refresh_token(owner.id, family_id="family-a")
    later = a_refresh_token(owner.id, family_id="family-b")
    await add(uow_factory, earlier, later)
    first = utc_now()
    await revoke_family(uow_factory, "family-a", first)

    await revoke_all_for_user(uow_factory, owner, first + timedelta(hours=1))

    found_earlier = await get(uow_factory, earlier.token_digest)
    found_later = await get(uow_factory, later.token_digest)
    assert found_earlier is not None
    assert found_later is not None
    assert found_earlier.revoked_at == first
    assert found_later.revoked_at == first + timedelta(hours=1)


async def test_revoke_all_for_user_is_undone_by_rollback(
    uow_factory: UowFactory, owner: User
) -> None:
    record = a_refresh_token(owner.id)
    await add(uow_factory, record)
    async with uow_factory() as uow:
        await uow.refresh_tokens.revoke_all_for_user(owner.id, utc_now())

    assert await get(uow_factory, record.token_digest) == record
