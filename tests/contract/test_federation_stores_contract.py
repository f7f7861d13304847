"""LinkedIdentityStore and FederationRequestStore, through the UnitOfWork, for every
adapter: a provider's subject links to one account only (a second add is refused without
spoiling the transaction), a request is spent once, and an account's deletion takes its
links and requests with it."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from neodyme_domain.federation.model import FederationRequest, LinkedIdentity, RequestPurpose
from neodyme_domain.model import User
from neodyme_domain.tokens.model import digest
from tests.contract.conftest import UowFactory

START = datetime(2031, 5, 4, 10, 0, 0, 123456, tzinfo=UTC)


def an_identity(owner: User, **changes: object) -> LinkedIdentity:
    identity = LinkedIdentity(
        id=uuid.uuid4(),
        user_id=owner.id,
        provider="acme",
        subject=secrets.token_hex(8),
        email="someone@example.com",
        created_at=START,
    )
    return replace(identity, **changes)  # type: ignore[arg-type]


def a_request(**changes: object) -> FederationRequest:
    request = FederationRequest(
        digest=digest(secrets.token_urlsafe(32)),
        purpose=RequestPurpose.AUTHORIZATION,
        provider="acme",
        created_at=START,
        expires_at=START + timedelta(minutes=10),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(32),
        redirect_uri="https://app.example/login/oidc/acme/callback",
    )
    return replace(request, **changes)  # type: ignore[arg-type]


async def add_identity(uow_factory: UowFactory, identity: LinkedIdentity) -> bool:
    async with uow_factory() as uow:
        added = await uow.linked_identities.add(identity)
        await uow.commit()
    return added


async def add_request(uow_factory: UowFactory, request: FederationRequest) -> None:
    async with uow_factory() as uow:
        await uow.federation_requests.add(request)
        await uow.commit()


async def take(uow_factory: UowFactory, key: str, at: datetime) -> FederationRequest | None:
    async with uow_factory() as uow:
        taken = await uow.federation_requests.take(key, at)
        await uow.commit()
    return taken


# --- linked identities ---------------------------------------------------------------------


async def test_an_identity_round_trips_by_subject_and_by_user(
    uow_factory: UowFactory, owner: User, stranger: User
) -> None:
    identity = an_identity(owner)
    assert await add_identity(uow_factory, identity) is True
    async with uow_factory() as uow:
        assert await uow.linked_identities.by_subject("acme", identity.subject) == identity
        assert await uow.linked_identities.by_subject("other", identity.subject) is None
        assert await uow.linked_identities.by_subject("acme", "nobody") is None
        assert await uow.linked_identities.for_user(owner.id) == [identity]
        assert await uow.linked_identities.for_user(stranger.id) == []


async def test_a_users_identities_are_listed_oldest_first(
    uow_factory: UowFactory, owner: User
) -> None:
    newer = an_identity(owner, created_at=START + timedelta(seconds=1), provider="other")
    older = an_identity(owner)
    for identity in (newer, older):
        assert await add_identity(uow_factory, identity)
    async with uow_factory() as uow:
        assert await uow.linked_identities.for_user(owner.id) == [older, newer]


async def test_a_subject_links_to_one_account_and_the_transaction_goes_on(
    uow_factory: UowFactory, owner: User, stranger: User
) -> None:
    first = an_identity(owner)
    assert await add_identity(uow_factory, first)
    same_subject = an_identity(stranger, subject=first.subject)
    other_provider = an_identity(stranger, subject=first.subject, provider="other")
    async with uow_factory() as uow:
        assert await uow.linked_identities.add(same_subject) is False
        # Refused without an error: the same transaction still writes.
        assert await uow.linked_identities.add(other_provider) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.linked_identities.for_user(stranger.id) == [other_provider]
        assert await uow.linked_identities.by_subject("acme", first.subject) == first


async def test_two_concurrent_links_of_one_subject_store_one(
    uow_factory: UowFactory, owner: User, stranger: User
) -> None:
    subject = secrets.token_hex(8)
    outcomes = await asyncio.gather(
        add_identity(uow_factory, an_identity(owner, subject=subject)),
        add_identity(uow_factory, an_identity(stranger, subject=subject)),
    )
    assert sorted(outcomes) == [False, True]


async def test_delete_says_whether_there_was_one(uow_factory: UowFactory, owner: User) -> None:
    identity = an_identity(owner)
    await add_identity(uow_factory, identity)
    async with uow_factory() as uow:
        assert await uow.linked_identities.delete(identity.id) is True
        assert await uow.linked_identities.delete(identity.id) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.linked_identities.for_user(owner.id) == []


# --- federation requests -------------------------------------------------------------------


async def test_a_request_round_trips_and_is_spent_once(
    uow_factory: UowFactory, owner: User
) -> None:
    authorization = a_request()
    link = a_request(
        purpose=RequestPurpose.LINK,
        nonce="",
        code_verifier="",
        redirect_uri="",
        user_id=owner.id,
        subject="acme-sub",
        email="owner@example.com",
    )
    for request in (authorization, link):
        await add_request(uow_factory, request)
        assert await take(uow_factory, request.digest, START) == request
        assert await take(uow_factory, request.digest, START) is None


async def test_of_concurrent_takes_one_gets_the_request(uow_factory: UowFactory) -> None:
    request = a_request()
    await add_request(uow_factory, request)
    taken = await asyncio.gather(*(take(uow_factory, request.digest, START) for _ in range(4)))
    assert [t for t in taken if t is not None] == [request]


async def test_an_expired_request_is_not_given_and_is_purged(uow_factory: UowFactory) -> None:
    expired, live = a_request(), a_request(expires_at=START + timedelta(hours=1))
    for request in (expired, live):
        await add_request(uow_factory, request)
    assert await take(uow_factory, expired.digest, expired.expires_at) is None
    async with uow_factory() as uow:
        assert await uow.federation_requests.purge_expired(START + timedelta(minutes=30)) == 0
        assert await uow.federation_requests.purge_expired(START + timedelta(hours=1)) == 1
        await uow.commit()
    assert await take(uow_factory, live.digest, START) is None


async def test_deleting_the_account_takes_its_links_and_requests(
    uow_factory: UowFactory, owner: User
) -> None:
    identity = an_identity(owner)
    link = a_request(purpose=RequestPurpose.LINK, user_id=owner.id, subject=identity.subject)
    await add_identity(uow_factory, identity)
    await add_request(uow_factory, link)
    async with uow_factory() as uow:
        await uow.users.delete(owner.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.linked_identities.by_subject("acme", identity.subject) is None
    assert await take(uow_factory, link.digest, START) is None
