"""Signing in with another provider: begin, the callback (sign in, create, or ask to link),
the link its owner confirms, listing and unlinking; and what each refuses, with nothing
written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_adapters.memory.identity_providers import InMemoryIdentityProviders
from neodyme_domain.errors import (
    AccountInactive,
    FederationRefused,
    IdentityNotFound,
    IdentityTaken,
    InvalidCredentials,
    LastSignInMethod,
    LinkRequired,
    MfaRequired,
    ProviderEmailUnverified,
    ProviderNotFound,
    ProviderUnavailable,
)
from neodyme_domain.federation.begin_federation import BeginFederation
from neodyme_domain.federation.complete_federation import CompleteFederation, FederationCallback
from neodyme_domain.federation.confirm_link import ConfirmLink, LinkConfirmation
from neodyme_domain.federation.list_identities import ListIdentities
from neodyme_domain.federation.model import REQUEST_TTL, LinkedIdentity
from neodyme_domain.federation.unlink_identity import IdentityUnlinking, UnlinkIdentity
from neodyme_domain.model import User, UserId
from neodyme_domain.passkeys.model import Passkey
from neodyme_domain.passkeys.remove_passkey import PasskeyRemoval, RemovePasskey
from neodyme_domain.tokens.model import digest
from neodyme_domain.use_cases import AuthenticateCommand, AuthenticateUser, Registered
from tests.unit.domain.federation.conftest import CALLBACK
from tests.unit.domain.helpers import PASSWORD, counts, events_of, stored_user

SUBJECT = "acme-user-1"
EMAIL = "new.person@example.com"


async def answered(
    begin: BeginFederation,
    providers: InMemoryIdentityProviders,
    *,
    subject: str = SUBJECT,
    email: str | None = EMAIL,
    email_verified: bool = True,
    name: str | None = "New Person",
    nonce: str | None = None,
    provider: str = "acme",
) -> FederationCallback:
    """A sign-in begun and done at the provider: the callback its redirect carries."""
    started = await begin(provider, CALLBACK)
    code = providers.sign_in(
        started.url,
        subject=subject,
        email=email,
        email_verified=email_verified,
        name=name,
        nonce=nonce,
    )
    return FederationCallback(provider, started.state, code)


async def identities_of(database: MemoryDatabase, user_id: UserId) -> list[LinkedIdentity]:
    async with InMemoryUnitOfWork(database) as uow:
        return await uow.linked_identities.for_user(user_id)


async def turn_on_second_factor(database: MemoryDatabase, user: User, clock: ManualClock) -> None:
    async with InMemoryUnitOfWork(database) as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None
        stored.enable_mfa(clock.now())
        await uow.users.update(stored)
        await uow.commit()


# Begin


async def test_begin_keeps_the_request_by_the_digest_of_its_state(
    begin: BeginFederation, database: MemoryDatabase
) -> None:
    started = await begin("acme", CALLBACK)

    [request] = database.state.federation_requests.values()
    assert request.digest == digest(started.state)
    assert (request.provider, request.redirect_uri) == ("acme", CALLBACK)
    assert len(request.nonce) >= 43 and len(request.code_verifier) >= 43  # noqa: PT018
    assert request.nonce != request.code_verifier
    assert request.expires_at - request.created_at == REQUEST_TTL


async def test_a_provider_down_or_unknown_stores_nothing(
    begin: BeginFederation, providers: InMemoryIdentityProviders, database: MemoryDatabase
) -> None:
    providers.down.add("acme")
    with pytest.raises(ProviderUnavailable):
        await begin("acme", CALLBACK)
    with pytest.raises(ProviderNotFound):
        await begin("nobody", CALLBACK)
    assert database.state.federation_requests == {}


async def test_expired_requests_go_as_new_ones_come(
    begin: BeginFederation, database: MemoryDatabase, clock: ManualClock
) -> None:
    await begin("acme", CALLBACK)
    clock.advance(REQUEST_TTL)
    await begin("acme", CALLBACK)
    assert len(database.state.federation_requests) == 1


# The callback


async def test_a_first_sign_in_makes_a_verified_account_without_a_password(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
    authenticate_user: AuthenticateUser,
) -> None:
    signed_in = await complete(await answered(begin, providers))

    user = await stored_user(database, signed_in.user.id)
    assert user is not None
    assert (user.email.value, user.full_name, user.is_verified) == (EMAIL, "New Person", True)
    assert not user.has_password
    [identity] = await identities_of(database, user.id)
    assert (identity.provider, identity.subject, identity.email) == ("acme", SUBJECT, EMAIL)
    assert [e.message.kind for e in database.outbox] == ["welcome"]  # no identity_linked notice
    [registration] = events_of(database, "user_registration")
    assert registration.data["method"] == "oidc"
    assert registration.data["provider"] == "acme"
    [login] = events_of(database, "user_login")
    assert (login.data["method"], login.data["provider"]) == ("oidc", "acme")
    assert signed_in.tokens.access_token
    with pytest.raises(InvalidCredentials):  # no password to log in with
        await authenticate_user(AuthenticateCommand(EMAIL, ""))


async def test_a_linked_subject_signs_in_to_its_account_whatever_address_it_gives_now(
    begin: BeginFederation, complete: CompleteFederation, providers: InMemoryIdentityProviders
) -> None:
    first = await complete(await answered(begin, providers))
    again = await complete(await answered(begin, providers, email="moved@example.com"))
    assert again.user.id == first.user.id
    assert again.tokens.refresh_token != first.tokens.refresh_token


async def test_a_name_neodyme_refuses_falls_back_to_the_address(
    begin: BeginFederation, complete: CompleteFederation, providers: InMemoryIdentityProviders
) -> None:
    signed_in = await complete(await answered(begin, providers, name="\x00"))
    assert signed_in.user.full_name == "new.person"


@pytest.mark.parametrize(("email", "verified"), [(EMAIL, False), (None, True)])
async def test_an_address_the_provider_does_not_vouch_for_makes_nothing(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
    email: str | None,
    verified: bool,
) -> None:
    callback = await answered(begin, providers, email=email, email_verified=verified)
    before = counts(database)
    with pytest.raises(ProviderEmailUnverified):
        await complete(callback)
    assert counts(database) == before
    assert database.state.linked_identities == {}


async def test_an_address_an_account_holds_asks_for_a_link_and_links_nothing(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    callback = await answered(begin, providers, email="ALICE@example.com")
    with pytest.raises(LinkRequired) as asked:
        await complete(callback)
    assert asked.value.details["email"] == "ALICE@example.com"
    assert asked.value.details["provider"] == "acme"
    assert asked.value.details["expires_in"] == int(REQUEST_TTL.total_seconds())
    assert await identities_of(database, alice.user.id) == []
    assert events_of(database, "user_login") == []
    link = database.state.federation_requests[digest(asked.value.link_token)]
    assert (link.user_id, link.subject) == (alice.user.id, SUBJECT)


async def test_a_linked_account_with_a_second_factor_still_asks_for_it(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    first = await complete(await answered(begin, providers))
    await turn_on_second_factor(database, first.user, clock)
    logins = len(events_of(database, "user_login"))

    with pytest.raises(MfaRequired) as asked:
        await complete(await answered(begin, providers))
    assert asked.value.mfa_token
    assert len(events_of(database, "user_login")) == logins


async def test_an_inactive_account_is_refused(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
) -> None:
    first = await complete(await answered(begin, providers))
    async with InMemoryUnitOfWork(database) as uow:
        user = await uow.users.get(first.user.id)
        assert user is not None
        user.is_active = False
        await uow.users.update(user)
        await uow.commit()
    with pytest.raises(AccountInactive):
        await complete(await answered(begin, providers))


async def test_every_callback_that_proves_nothing_is_refused_and_makes_nothing(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    good = await answered(begin, providers)
    wrong_state = FederationCallback("acme", good.state + "x", good.code)
    other_provider = FederationCallback("other", good.state, good.code)
    wrong_nonce = await answered(begin, providers, nonce="another-nonce")
    expired = await answered(begin, providers)
    before = counts(database)

    for callback in (wrong_state, other_provider, wrong_nonce):
        with pytest.raises(FederationRefused):
            await complete(callback)
    # other_provider spent good's request: the genuine callback comes too late.
    with pytest.raises(FederationRefused):
        await complete(good)
    clock.advance(REQUEST_TTL)
    with pytest.raises(FederationRefused):
        await complete(expired)
    assert counts(database) == before


async def test_a_replayed_callback_is_refused(
    begin: BeginFederation, complete: CompleteFederation, providers: InMemoryIdentityProviders
) -> None:
    callback = await answered(begin, providers)
    await complete(callback)
    with pytest.raises(FederationRefused):
        await complete(callback)
    # The code with the state of another request: the provider refuses it (spent).
    fresh = await begin("acme", CALLBACK)
    with pytest.raises(FederationRefused):
        await complete(FederationCallback("acme", fresh.state, callback.code))


async def test_a_provider_down_at_the_callback_makes_nothing(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
) -> None:
    callback = await answered(begin, providers)
    providers.down.add("acme")
    before = counts(database)
    with pytest.raises(ProviderUnavailable):
        await complete(callback)
    assert counts(database) == before


# Confirming a link


async def link_token(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    email: str,
    subject: str = SUBJECT,
) -> str:
    with pytest.raises(LinkRequired) as asked:
        await complete(await answered(begin, providers, email=email, subject=subject))
    return asked.value.link_token


async def test_the_owners_password_links_the_identity_and_signs_in(
    begin: BeginFederation,
    complete: CompleteFederation,
    confirm: ConfirmLink,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    token = await link_token(begin, complete, providers, "alice@example.com")

    signed_in = await confirm(LinkConfirmation(token, PASSWORD))

    assert signed_in.user.id == alice.user.id
    [identity] = await identities_of(database, alice.user.id)
    assert (identity.provider, identity.subject) == ("acme", SUBJECT)
    [linked] = events_of(database, "identity_linked")
    assert linked.data["provider"] == "acme"
    assert "identity_linked" in [e.message.kind for e in database.outbox]
    # From now on the provider signs in to alice's account.
    again = await complete(await answered(begin, providers, email="alice@example.com"))
    assert again.user.id == alice.user.id


async def test_a_wrong_password_links_nothing_and_spends_the_token(
    begin: BeginFederation,
    complete: CompleteFederation,
    confirm: ConfirmLink,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    token = await link_token(begin, complete, providers, "alice@example.com")
    with pytest.raises(InvalidCredentials):
        await confirm(LinkConfirmation(token, PASSWORD + "x"))
    assert await identities_of(database, alice.user.id) == []
    with pytest.raises(FederationRefused):
        await confirm(LinkConfirmation(token, PASSWORD))
    assert await identities_of(database, alice.user.id) == []
    shown = repr(LinkConfirmation(token, PASSWORD))
    assert PASSWORD not in shown
    assert token not in shown


async def test_an_account_with_a_second_factor_is_linked_then_asked_for_it(
    begin: BeginFederation,
    complete: CompleteFederation,
    confirm: ConfirmLink,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> None:
    await turn_on_second_factor(database, alice.user, clock)
    token = await link_token(begin, complete, providers, "alice@example.com")
    with pytest.raises(MfaRequired):
        await confirm(LinkConfirmation(token, PASSWORD))
    assert len(await identities_of(database, alice.user.id)) == 1


async def test_a_subject_linked_meanwhile_is_taken(
    begin: BeginFederation,
    complete: CompleteFederation,
    confirm: ConfirmLink,
    providers: InMemoryIdentityProviders,
    alice: Registered,
    bob: Registered,
) -> None:
    for_alice = await link_token(begin, complete, providers, "alice@example.com")
    for_bob = await link_token(begin, complete, providers, "bob@example.com")
    await confirm(LinkConfirmation(for_bob, PASSWORD))
    with pytest.raises(IdentityTaken):
        await confirm(LinkConfirmation(for_alice, PASSWORD))


async def test_a_state_is_no_link_token(
    begin: BeginFederation, confirm: ConfirmLink, alice: Registered
) -> None:
    started = await begin("acme", CALLBACK)
    with pytest.raises(FederationRefused):
        await confirm(LinkConfirmation(started.state, PASSWORD))


# Listing and unlinking


async def test_unlinking_the_last_way_to_sign_in_is_refused(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    list_identities: ListIdentities,
    unlink: UnlinkIdentity,
    database: MemoryDatabase,
) -> None:
    signed_in = await complete(await answered(begin, providers))
    [identity] = await list_identities(signed_in.user)

    with pytest.raises(LastSignInMethod):
        await unlink(IdentityUnlinking(signed_in.user, identity.id))
    assert len(await list_identities(signed_in.user)) == 1

    # A second provider is another way in: now the first may go.
    async with InMemoryUnitOfWork(database) as uow:
        second = LinkedIdentity(
            UserId(int=7), signed_in.user.id, "other", "o-1", EMAIL, identity.created_at
        )
        await uow.linked_identities.add(second)
        await uow.commit()
    await unlink(IdentityUnlinking(signed_in.user, identity.id))
    assert [i.provider for i in await list_identities(signed_in.user)] == ["other"]
    [event] = events_of(database, "identity_unlinked")
    assert event.data["provider"] == "acme"
    assert "identity_unlinked" in [e.message.kind for e in database.outbox]


@pytest.fixture
async def alices_identity(
    begin: BeginFederation,
    complete: CompleteFederation,
    confirm: ConfirmLink,
    providers: InMemoryIdentityProviders,
    list_identities: ListIdentities,
    alice: Registered,
) -> LinkedIdentity:
    """Alice (who has a password) linked the provider to her account."""
    await confirm(
        LinkConfirmation(
            await link_token(begin, complete, providers, "alice@example.com"), PASSWORD
        )
    )
    [identity] = await list_identities(alice.user)
    return identity


async def test_an_account_with_a_password_may_unlink_its_only_provider(
    list_identities: ListIdentities,
    unlink: UnlinkIdentity,
    alice: Registered,
    alices_identity: LinkedIdentity,
) -> None:
    identity = alices_identity
    await unlink(IdentityUnlinking(alice.user, identity.id))
    assert await list_identities(alice.user) == []
    with pytest.raises(IdentityNotFound):  # gone
        await unlink(IdentityUnlinking(alice.user, identity.id))


async def test_another_users_identity_is_not_found(
    list_identities: ListIdentities,
    unlink: UnlinkIdentity,
    alice: Registered,
    bob: Registered,
    alices_identity: LinkedIdentity,
) -> None:
    identity = alices_identity
    with pytest.raises(IdentityNotFound):
        await unlink(IdentityUnlinking(bob.user, identity.id))
    assert len(await list_identities(alice.user)) == 1


async def test_the_last_passkey_of_an_account_without_password_or_provider_stays(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    signed_in = await complete(await answered(begin, providers))
    async with InMemoryUnitOfWork(database) as uow:  # its identity gone (as by an operator)
        for identity in await uow.linked_identities.for_user(signed_in.user.id):
            await uow.linked_identities.delete(identity.id)
        await uow.commit()
    passkey = Passkey("pk-1", signed_in.user.id, "cred-1", b"key", 0, "Phone", clock.now())
    async with InMemoryUnitOfWork(database) as uow:
        assert await uow.passkeys.add(passkey)
        await uow.commit()
    passkey_id = passkey.id
    remove = RemovePasskey(uow=InMemoryUnitOfWork(database), clock=clock)
    with pytest.raises(LastSignInMethod):
        await remove(PasskeyRemoval(signed_in.user, passkey_id))
    async with InMemoryUnitOfWork(database) as uow:
        assert await uow.passkeys.count_for(signed_in.user.id) == 1


async def test_a_password_login_of_an_account_without_one_costs_a_hash_and_fails(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    authenticate_user: AuthenticateUser,
    database: MemoryDatabase,
) -> None:
    await complete(await answered(begin, providers))
    with pytest.raises(InvalidCredentials):
        await authenticate_user(AuthenticateCommand(EMAIL, PASSWORD))
    [failed] = events_of(database, "login_failed")
    assert failed.data["reason"] == "invalid_password"


async def test_a_request_answers_until_its_last_second(
    begin: BeginFederation,
    complete: CompleteFederation,
    providers: InMemoryIdentityProviders,
    clock: ManualClock,
) -> None:
    callback = await answered(begin, providers)
    clock.advance(REQUEST_TTL - timedelta(seconds=1))
    assert (await complete(callback)).user.email.value == EMAIL
