"""E-mail change: a link to the new address, a notice to the old; the address switches
only when the link is followed, and never onto an address another account holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import (
    EmailAlreadyExists,
    EmailMessage,
    InvalidCredentials,
    InvalidLink,
    RequestOrigin,
    ValidationFailed,
)
from neodyme_domain.accounts.confirm_email_change import (
    ConfirmEmailChange,
    EmailChangeConfirmation,
)
from neodyme_domain.accounts.request_email_change import EmailChangeRequest, RequestEmailChange
from neodyme_domain.tokens.model import OneTimePurpose, digest
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    ChangePassword,
    ChangePasswordCommand,
    LinkSettings,
    RegisterCommand,
    Registered,
    RegisterUser,
)
from tests.unit.domain.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    counts,
    events_of,
    link_token,
    stored_user,
)

ORIGIN = RequestOrigin(client_ip="192.0.2.33", user_agent="Mover/1.0")
NEW = "alice@wonderland.example"


@pytest.fixture
def request_change(
    database: MemoryDatabase, hasher: Argon2Hasher, clock: ManualClock, links: LinkSettings
) -> RequestEmailChange:
    return RequestEmailChange(
        uow=InMemoryUnitOfWork(database), hasher=hasher, clock=clock, links=links
    )


@pytest.fixture
def confirm(database: MemoryDatabase, clock: ManualClock) -> ConfirmEmailChange:
    return ConfirmEmailChange(uow=InMemoryUnitOfWork(database), clock=clock)


def mail(database: MemoryDatabase, kind: str) -> list[EmailMessage]:
    return [e.message for e in database.outbox if e.message.kind == kind]


async def requested(
    request_change: RequestEmailChange,
    database: MemoryDatabase,
    registered: Registered,
    new_email: str = NEW,
) -> str:
    await request_change(EmailChangeRequest(registered.user, new_email, PASSWORD, ORIGIN))
    return link_token(mail(database, "email_change")[-1], "/confirm-email")


async def test_a_request_mails_a_link_to_the_new_address_and_a_notice_to_the_old(
    request_change: RequestEmailChange,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> None:
    await requested(request_change, database, alice)

    [link] = mail(database, "email_change")
    [notice] = mail(database, "email_change_requested")
    assert link.to == NEW
    assert "Alice Liddell" in link.body
    assert notice.to == "alice@example.com"
    assert NEW in notice.body
    assert "Mover/1.0" in notice.body
    [event] = events_of(database, "email_change_requested")
    assert (event.data, event.client_ip) == ({"new_email": NEW}, "192.0.2.33")
    assert (event.user_id, event.occurred_at) == (alice.user.id, clock.now())
    unchanged = await stored_user(database, alice.user.id)
    assert unchanged is not None
    assert unchanged.email.value == "alice@example.com"


async def test_following_the_link_switches_the_address_verified(
    request_change: RequestEmailChange,
    confirm: ConfirmEmailChange,
    authenticate_user: AuthenticateUser,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> None:
    token = await requested(request_change, database, alice)
    clock.advance(timedelta(minutes=2))

    changed = await confirm(EmailChangeConfirmation(token, ORIGIN))

    assert (changed.email.value, changed.is_verified) == (NEW, True)
    assert await stored_user(database, alice.user.id) == changed
    [event] = events_of(database, "email_changed")
    assert event.data == {"old_email": "alice@example.com", "new_email": NEW}
    assert (event.user_id, event.occurred_at) == (alice.user.id, clock.now())
    signed_in = await authenticate_user(AuthenticateCommand(NEW, PASSWORD))
    assert signed_in.user.id == alice.user.id
    with pytest.raises(InvalidCredentials):
        await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))
    with pytest.raises(InvalidLink):
        await confirm(EmailChangeConfirmation(token))


async def test_a_wrong_password_changes_and_sends_nothing(
    request_change: RequestEmailChange, database: MemoryDatabase, alice: Registered
) -> None:
    before = counts(database)

    with pytest.raises(InvalidCredentials) as refused:
        await request_change(EmailChangeRequest(alice.user, NEW, NEW_PASSWORD))

    assert refused.value.context == {"user_id": alice.user.id}
    assert counts(database) == before


@pytest.mark.parametrize(
    ("new_email", "problem"),
    [
        ("not-an-address", "is not a valid e-mail address"),
        ("ALICE@Example.com", "is already the address of this account"),
    ],
)
async def test_an_invalid_or_the_same_address_is_refused_naming_the_field(
    request_change: RequestEmailChange,
    database: MemoryDatabase,
    alice: Registered,
    new_email: str,
    problem: str,
) -> None:
    before = counts(database)

    with pytest.raises(ValidationFailed) as refused:
        await request_change(EmailChangeRequest(alice.user, new_email, PASSWORD))

    assert refused.value.field == "new_email"
    assert refused.value.message == f"new_email: {problem}"
    assert counts(database) == before


async def test_an_address_another_account_holds_is_refused(
    request_change: RequestEmailChange, database: MemoryDatabase, alice: Registered, bob: Registered
) -> None:
    before = counts(database)

    with pytest.raises(EmailAlreadyExists) as refused:
        await request_change(EmailChangeRequest(alice.user, "BOB@example.com", PASSWORD))

    assert refused.value.message == "A user with email BOB@example.com already exists"
    assert counts(database) == before


async def test_an_address_taken_meanwhile_is_refused_at_confirmation_and_nothing_changes(
    request_change: RequestEmailChange,
    confirm: ConfirmEmailChange,
    register_user: RegisterUser,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    token = await requested(request_change, database, alice)
    await register_user(RegisterCommand(NEW, "Quick Taker", PASSWORD))

    with pytest.raises(EmailAlreadyExists) as refused:
        await confirm(EmailChangeConfirmation(token))

    assert refused.value.message == f"A user with email {NEW} already exists"
    unchanged = await stored_user(database, alice.user.id)
    assert unchanged is not None
    assert unchanged.email.value == "alice@example.com"
    assert events_of(database, "email_changed") == []


async def test_an_expired_link_is_refused(
    request_change: RequestEmailChange,
    confirm: ConfirmEmailChange,
    database: MemoryDatabase,
    clock: ManualClock,
    links: LinkSettings,
    alice: Registered,
) -> None:
    token = await requested(request_change, database, alice)
    clock.advance(links.ttl)

    with pytest.raises(InvalidLink):
        await confirm(EmailChangeConfirmation(token))


async def test_a_password_change_kills_a_pending_link(
    request_change: RequestEmailChange,
    confirm: ConfirmEmailChange,
    change_password: ChangePassword,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    token = await requested(request_change, database, alice)
    await change_password(ChangePasswordCommand(alice.user, PASSWORD, NEW_PASSWORD))

    with pytest.raises(InvalidLink):
        await confirm(EmailChangeConfirmation(token))


async def test_only_an_email_change_link_with_its_address_confirms(
    request_change: RequestEmailChange,
    confirm: ConfirmEmailChange,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    token = await requested(request_change, database, alice)
    record = database.state.one_time_tokens[digest(token)]
    for broken in (
        replace(record, purpose=OneTimePurpose.EMAIL_VERIFICATION),
        replace(record, new_email=None),
    ):
        database.state.one_time_tokens[digest(token)] = broken
        with pytest.raises(InvalidLink):
            await confirm(EmailChangeConfirmation(token))


async def test_each_request_is_its_own_link(
    request_change: RequestEmailChange,
    confirm: ConfirmEmailChange,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> None:
    first = await requested(request_change, database, alice, "first@example.org")
    clock.advance(timedelta(minutes=1))
    await requested(request_change, database, alice, "second@example.org")

    changed = await confirm(EmailChangeConfirmation(first))

    assert changed.email.value == "first@example.org"
