"""TotpStore, RecoveryCodeStore and MfaChallengeStore, through the UnitOfWork, for every
adapter: including concurrent use of one code, of which exactly one caller may win."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from neodyme_domain.mfa.model import MfaChallenge, TotpAuthenticator
from neodyme_domain.model import User
from neodyme_domain.tokens.model import digest
from tests.contract.conftest import UowFactory

START = datetime(2031, 5, 4, 10, 0, 0, 123456, tzinfo=UTC)


def an_authenticator(owner: User, **changes: object) -> TotpAuthenticator:
    authenticator = TotpAuthenticator(owner.id, "sealed:" + secrets.token_hex(8), START)
    return replace(authenticator, **changes)  # type: ignore[arg-type]


def a_challenge(owner: User, **changes: object) -> MfaChallenge:
    challenge = MfaChallenge(
        token_digest=digest(secrets.token_urlsafe(32)),
        user_id=owner.id,
        user_stamp=3,
        created_at=START,
        expires_at=START + timedelta(minutes=5),
    )
    return replace(challenge, **changes)  # type: ignore[arg-type]


# --- TOTP ---------------------------------------------------------------------------------


async def put(uow_factory: UowFactory, authenticator: TotpAuthenticator) -> None:
    async with uow_factory() as uow:
        await uow.totp.put(authenticator)
        await uow.commit()


async def get_totp(uow_factory: UowFactory, owner: User) -> TotpAuthenticator | None:
    async with uow_factory() as uow:
        return await uow.totp.get(owner.id)


async def use_step(uow_factory: UowFactory, owner: User, step: int) -> bool:
    async with uow_factory() as uow:
        won = await uow.totp.use_step(owner.id, step)
        await uow.commit()
    return won


async def test_an_authenticator_round_trips_and_put_replaces_it(
    uow_factory: UowFactory, owner: User
) -> None:
    pending = an_authenticator(owner)
    await put(uow_factory, pending)
    assert await get_totp(uow_factory, owner) == pending

    confirmed = an_authenticator(
        owner, confirmed_at=START + timedelta(minutes=1), last_used_step=2**40
    )
    await put(uow_factory, confirmed)

    assert await get_totp(uow_factory, owner) == confirmed
    async with uow_factory() as uow:
        assert await uow.totp.list_all() == [confirmed]


async def test_use_step_accepts_only_later_steps(uow_factory: UowFactory, owner: User) -> None:
    await put(uow_factory, an_authenticator(owner))

    assert await use_step(uow_factory, owner, 100) is True
    assert await use_step(uow_factory, owner, 100) is False  # the same code again
    assert await use_step(uow_factory, owner, 99) is False  # an older one
    assert await use_step(uow_factory, owner, 101) is True
    found = await get_totp(uow_factory, owner)
    assert found is not None
    assert found.last_used_step == 101


async def test_use_step_without_an_authenticator_fails(
    uow_factory: UowFactory, owner: User
) -> None:
    assert await use_step(uow_factory, owner, 1) is False


async def test_concurrent_uses_of_one_code_let_exactly_one_caller_win(
    uow_factory: UowFactory, owner: User
) -> None:
    await put(uow_factory, an_authenticator(owner))

    outcomes = await asyncio.gather(*(use_step(uow_factory, owner, 500) for _ in range(8)))

    assert sorted(outcomes) == [False] * 7 + [True]


async def test_delete_removes_only_that_users_authenticator(
    uow_factory: UowFactory, owner: User, stranger: User
) -> None:
    other = stranger
    await put(uow_factory, an_authenticator(owner))
    kept = an_authenticator(other)
    await put(uow_factory, kept)

    async with uow_factory() as uow:
        assert await uow.totp.delete(owner.id) is True
        assert await uow.totp.delete(owner.id) is False
        await uow.commit()

    assert await get_totp(uow_factory, owner) is None
    assert await get_totp(uow_factory, other) == kept


# --- recovery codes -----------------------------------------------------------------------


async def spend(uow_factory: UowFactory, owner: User, code_digest: str) -> bool:
    async with uow_factory() as uow:
        won = await uow.recovery_codes.use(owner.id, code_digest, START)
        await uow.commit()
    return won


async def remaining(uow_factory: UowFactory, owner: User) -> int:
    async with uow_factory() as uow:
        return await uow.recovery_codes.remaining(owner.id)


async def replace_codes(uow_factory: UowFactory, owner: User, digests: list[str]) -> None:
    async with uow_factory() as uow:
        await uow.recovery_codes.replace(owner.id, digests)
        await uow.commit()


async def test_a_recovery_code_works_once(uow_factory: UowFactory, owner: User) -> None:
    codes = [digest(f"code-{i}") for i in range(10)]
    await replace_codes(uow_factory, owner, codes)
    assert await remaining(uow_factory, owner) == 10

    assert await spend(uow_factory, owner, codes[3]) is True
    assert await spend(uow_factory, owner, codes[3]) is False
    assert await spend(uow_factory, owner, digest("not-a-code")) is False
    assert await remaining(uow_factory, owner) == 9


async def test_a_code_belongs_to_its_user(
    uow_factory: UowFactory, owner: User, stranger: User
) -> None:
    other = stranger
    code = digest("shared-looking")
    await replace_codes(uow_factory, owner, [code])

    assert await spend(uow_factory, other, code) is False
    assert await remaining(uow_factory, owner) == 1


async def test_replace_kills_the_old_set(uow_factory: UowFactory, owner: User) -> None:
    old = [digest(f"old-{i}") for i in range(3)]
    new = [digest(f"new-{i}") for i in range(2)]
    await replace_codes(uow_factory, owner, old)
    await spend(uow_factory, owner, old[0])

    await replace_codes(uow_factory, owner, new)

    assert await spend(uow_factory, owner, old[1]) is False
    assert await remaining(uow_factory, owner) == 2
    assert await spend(uow_factory, owner, new[0]) is True


async def test_delete_all_leaves_no_code(uow_factory: UowFactory, owner: User) -> None:
    code = digest("one")
    await replace_codes(uow_factory, owner, [code])
    async with uow_factory() as uow:
        await uow.recovery_codes.delete_all(owner.id)
        await uow.commit()

    assert await remaining(uow_factory, owner) == 0
    assert await spend(uow_factory, owner, code) is False


async def test_concurrent_uses_of_one_recovery_code_let_exactly_one_caller_win(
    uow_factory: UowFactory, owner: User
) -> None:
    code = digest("contested")
    await replace_codes(uow_factory, owner, [code, digest("other")])

    outcomes = await asyncio.gather(*(spend(uow_factory, owner, code) for _ in range(8)))

    assert sorted(outcomes) == [False] * 7 + [True]
    assert await remaining(uow_factory, owner) == 1


# --- second-factor challenges --------------------------------------------------------------


async def test_a_challenge_round_trips_counts_failures_and_is_used_once(
    uow_factory: UowFactory, owner: User
) -> None:
    challenge = a_challenge(owner)
    async with uow_factory() as uow:
        await uow.mfa_challenges.add(challenge)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.mfa_challenges.get(challenge.token_digest) == challenge
        assert await uow.mfa_challenges.get(digest("unknown")) is None
        assert await uow.mfa_challenges.count_failure(challenge.token_digest) == 1
        assert await uow.mfa_challenges.count_failure(challenge.token_digest) == 2
        assert await uow.mfa_challenges.count_failure(digest("unknown")) == 0
        assert await uow.mfa_challenges.mark_used(challenge.token_digest, START) is True
        assert await uow.mfa_challenges.mark_used(challenge.token_digest, START) is False
        await uow.commit()

    async with uow_factory() as uow:
        found = await uow.mfa_challenges.get(challenge.token_digest)
    assert found == replace(challenge, failures=2, used_at=START)


async def test_concurrent_failures_are_all_counted(uow_factory: UowFactory, owner: User) -> None:
    challenge = a_challenge(owner)
    async with uow_factory() as uow:
        await uow.mfa_challenges.add(challenge)
        await uow.commit()

    async def fail() -> int:
        async with uow_factory() as uow:
            count = await uow.mfa_challenges.count_failure(challenge.token_digest)
            await uow.commit()
        return count

    assert sorted(await asyncio.gather(*(fail() for _ in range(6)))) == [1, 2, 3, 4, 5, 6]


async def test_purge_deletes_only_expired_challenges(uow_factory: UowFactory, owner: User) -> None:
    expired = a_challenge(owner, expires_at=START)
    alive = a_challenge(owner, expires_at=START + timedelta(microseconds=1))
    async with uow_factory() as uow:
        await uow.mfa_challenges.add(expired)
        await uow.mfa_challenges.add(alive)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.mfa_challenges.purge_expired(START) == 1
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.mfa_challenges.get(expired.token_digest) is None
        assert await uow.mfa_challenges.get(alive.token_digest) == alive


async def test_second_factor_records_go_with_their_user(
    uow_factory: UowFactory, owner: User
) -> None:
    challenge = a_challenge(owner)
    async with uow_factory() as uow:
        await uow.totp.put(an_authenticator(owner))
        await uow.recovery_codes.replace(owner.id, [digest("x")])
        await uow.mfa_challenges.add(challenge)
        await uow.commit()

    async with uow_factory() as uow:
        await uow.users.delete(owner.id)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.totp.get(owner.id) is None
        assert await uow.recovery_codes.remaining(owner.id) == 0
        assert await uow.mfa_challenges.get(challenge.token_digest) is None
