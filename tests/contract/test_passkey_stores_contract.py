"""PasskeyStore and WebAuthnChallengeStore, through the UnitOfWork, for every adapter:
including concurrent answers to one challenge and concurrent uses of one counter, of
which exactly one caller may win."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from neodyme_domain.model import User
from neodyme_domain.passkeys.model import Ceremony, Passkey, WebAuthnChallenge
from neodyme_domain.tokens.model import digest
from tests.contract.conftest import UowFactory
from tests.support.builders import a_user

START = datetime(2031, 5, 4, 10, 0, 0, 123456, tzinfo=UTC)


def a_passkey(owner: User, **changes: object) -> Passkey:
    passkey = Passkey(
        id=str(uuid.uuid4()),
        user_id=owner.id,
        credential_id=secrets.token_urlsafe(16),
        public_key=secrets.token_bytes(77),
        sign_count=0,
        name="Laptop",
        created_at=START,
        transports=("internal", "hybrid"),
        aaguid=str(uuid.uuid4()),
        backup_eligible=True,
    )
    return replace(passkey, **changes)  # type: ignore[arg-type]


def a_challenge(**changes: object) -> WebAuthnChallenge:
    challenge = WebAuthnChallenge(
        challenge_digest=digest(secrets.token_urlsafe(32)),
        ceremony=Ceremony.AUTHENTICATION,
        created_at=START,
        expires_at=START + timedelta(minutes=5),
    )
    return replace(challenge, **changes)  # type: ignore[arg-type]


async def add(uow_factory: UowFactory, passkey: Passkey) -> bool:
    async with uow_factory() as uow:
        added = await uow.passkeys.add(passkey)
        await uow.commit()
    return added


async def stored(uow_factory: UowFactory, passkey: Passkey) -> Passkey | None:
    async with uow_factory() as uow:
        return await uow.passkeys.get(passkey.id)


# --- passkeys ------------------------------------------------------------------------------


async def test_a_passkey_round_trips_by_id_and_by_credential(
    uow_factory: UowFactory, owner: User
) -> None:
    passkey = a_passkey(owner, last_used_at=START + timedelta(days=1), sign_count=2**40)
    assert await add(uow_factory, passkey) is True

    async with uow_factory() as uow:
        assert await uow.passkeys.get(passkey.id) == passkey
        assert await uow.passkeys.by_credential(passkey.credential_id) == passkey
        assert await uow.passkeys.get(str(uuid.uuid4())) is None
        assert await uow.passkeys.by_credential("unknown") is None


async def test_a_users_passkeys_are_listed_oldest_first_and_counted(
    uow_factory: UowFactory, owner: User
) -> None:
    other = a_user()
    newer = a_passkey(owner, created_at=START + timedelta(seconds=1))
    older = a_passkey(owner)
    async with uow_factory() as uow:
        await uow.users.add(other)
        for passkey in (newer, older, a_passkey(other)):
            await uow.passkeys.add(passkey)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.passkeys.list_for(owner.id) == [older, newer]
        assert await uow.passkeys.count_for(owner.id) == 2
        assert await uow.passkeys.count_for(uuid.uuid4()) == 0


async def test_a_credential_is_registered_once_and_the_transaction_goes_on(
    uow_factory: UowFactory, owner: User
) -> None:
    first = a_passkey(owner)
    await add(uow_factory, first)
    again = a_passkey(owner, credential_id=first.credential_id)
    later = a_passkey(owner, created_at=START + timedelta(seconds=1))

    async with uow_factory() as uow:
        assert await uow.passkeys.add(again) is False
        assert await uow.passkeys.add(later) is True  # the same transaction, unharmed
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.passkeys.list_for(owner.id) == [first, later]


async def test_rename_and_delete(uow_factory: UowFactory, owner: User) -> None:
    passkey = a_passkey(owner)
    await add(uow_factory, passkey)

    async with uow_factory() as uow:
        await uow.passkeys.rename(passkey.id, "Phone")
        await uow.commit()
    assert await stored(uow_factory, passkey) == replace(passkey, name="Phone")

    async with uow_factory() as uow:
        assert await uow.passkeys.delete(passkey.id) is True
        assert await uow.passkeys.delete(passkey.id) is False
        await uow.commit()
    assert await stored(uow_factory, passkey) is None


async def test_record_use_moves_the_counter_only_from_the_count_seen(
    uow_factory: UowFactory, owner: User
) -> None:
    passkey = a_passkey(owner, sign_count=4)
    await add(uow_factory, passkey)
    used_at = START + timedelta(hours=1)

    async with uow_factory() as uow:
        stale = await uow.passkeys.record_use(
            passkey.id, seen_count=3, sign_count=9, backed_up=True, at=used_at
        )
        assert stale is False
        moved = await uow.passkeys.record_use(
            passkey.id, seen_count=4, sign_count=5, backed_up=True, at=used_at
        )
        assert moved is True
        await uow.commit()

    assert await stored(uow_factory, passkey) == replace(
        passkey, sign_count=5, backed_up=True, last_used_at=used_at
    )


async def test_concurrent_uses_at_one_count_let_exactly_one_caller_win(
    uow_factory: UowFactory, owner: User
) -> None:
    passkey = a_passkey(owner, sign_count=7)
    await add(uow_factory, passkey)

    async def use() -> bool:
        async with uow_factory() as uow:
            won = await uow.passkeys.record_use(
                passkey.id, seen_count=7, sign_count=8, backed_up=False, at=START
            )
            await uow.commit()
        return won

    outcomes = await asyncio.gather(*(use() for _ in range(8)))

    assert sorted(outcomes) == [False] * 7 + [True]


# --- challenges ----------------------------------------------------------------------------


async def take(uow_factory: UowFactory, challenge_digest: str, at: datetime) -> object:
    async with uow_factory() as uow:
        taken = await uow.webauthn_challenges.take(challenge_digest, at)
        await uow.commit()
    return taken


async def test_a_challenge_is_taken_once(uow_factory: UowFactory, owner: User) -> None:
    challenge = a_challenge(
        ceremony=Ceremony.REGISTRATION, user_id=owner.id, mfa_digest=digest("mfa")
    )
    async with uow_factory() as uow:
        await uow.webauthn_challenges.add(challenge)
        await uow.commit()
    at = START + timedelta(minutes=1)

    assert await take(uow_factory, challenge.challenge_digest, at) == replace(challenge, used_at=at)
    assert await take(uow_factory, challenge.challenge_digest, at) is None
    assert await take(uow_factory, digest("unknown"), at) is None


async def test_an_expired_challenge_is_not_taken(uow_factory: UowFactory) -> None:
    challenge = a_challenge()
    async with uow_factory() as uow:
        await uow.webauthn_challenges.add(challenge)
        await uow.commit()

    assert await take(uow_factory, challenge.challenge_digest, challenge.expires_at) is None


async def test_concurrent_answers_to_one_challenge_let_exactly_one_caller_win(
    uow_factory: UowFactory,
) -> None:
    challenge = a_challenge()
    async with uow_factory() as uow:
        await uow.webauthn_challenges.add(challenge)
        await uow.commit()

    outcomes = await asyncio.gather(
        *(take(uow_factory, challenge.challenge_digest, START) for _ in range(8))
    )

    assert sum(outcome is not None for outcome in outcomes) == 1


async def test_purge_deletes_only_expired_challenges(uow_factory: UowFactory) -> None:
    expired = a_challenge(expires_at=START)
    alive = a_challenge(expires_at=START + timedelta(microseconds=1))
    async with uow_factory() as uow:
        await uow.webauthn_challenges.add(expired)
        await uow.webauthn_challenges.add(alive)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.webauthn_challenges.purge_expired(START) == 1
        await uow.commit()

    assert await take(uow_factory, expired.challenge_digest, START - timedelta(days=1)) is None
    assert await take(uow_factory, alive.challenge_digest, START) is not None


async def test_passkey_records_go_with_their_user(uow_factory: UowFactory, owner: User) -> None:
    passkey = a_passkey(owner)
    challenge = a_challenge(user_id=owner.id)
    async with uow_factory() as uow:
        await uow.passkeys.add(passkey)
        await uow.webauthn_challenges.add(challenge)
        await uow.commit()

    async with uow_factory() as uow:
        await uow.users.delete(owner.id)
        await uow.commit()

    assert await stored(uow_factory, passkey) is None
    assert await take(uow_factory, challenge.challenge_digest, START) is None


async def test_nothing_is_kept_from_a_transaction_that_did_not_commit(
    uow_factory: UowFactory, owner: User
) -> None:
    passkey = a_passkey(owner)
    challenge = a_challenge()
    async with uow_factory() as uow:
        await uow.passkeys.add(passkey)
        await uow.webauthn_challenges.add(challenge)

    assert await stored(uow_factory, passkey) is None
    assert await take(uow_factory, challenge.challenge_digest, START) is None
