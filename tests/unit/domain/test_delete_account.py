"""DeleteAccount: with the password, the account and its tokens go; its history stays."""

from __future__ import annotations

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import (
    InvalidCredentials,
    InvalidToken,
    RequestOrigin,
    ValidationFailed,
)
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    ChangePassword,
    ChangePasswordCommand,
    CurrentUserQuery,
    DeleteAccount,
    DeleteAccountCommand,
    GetCurrentUser,
    ListSecurityEvents,
    RefreshCommand,
    RefreshTokens,
    RegisterCommand,
    Registered,
    RegisterUser,
    SecurityEventsQuery,
)
from tests.unit.domain.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    VerifyThenMeanwhile,
    counts,
    events_of,
    stored_user,
)

ORIGIN = RequestOrigin(client_ip="203.0.113.99", user_agent="pytest-delete")


def deleting(registered: Registered, password: str) -> DeleteAccountCommand:
    return DeleteAccountCommand(registered.user, password, origin=ORIGIN)


# --- success -------------------------------------------------------------------------------


async def test_a_deleted_account_is_gone(
    delete_account: DeleteAccount, alice: Registered, bob: Registered, database: MemoryDatabase
) -> None:
    result = await delete_account(deleting(alice, PASSWORD))

    assert result is None
    assert await stored_user(database, alice.user.id) is None
    assert await stored_user(database, bob.user.id) is not None


async def test_the_tokens_of_a_deleted_account_are_refused(
    delete_account: DeleteAccount,
    get_current_user: GetCurrentUser,
    refresh_tokens: RefreshTokens,
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
) -> None:
    await delete_account(deleting(alice, PASSWORD))

    with pytest.raises(InvalidToken):
        await get_current_user(CurrentUserQuery(alice.tokens.access_token))
    with pytest.raises(InvalidToken):
        await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))
    assert all(r.user_id != alice.user.id for r in database.state.refresh_tokens.values())
    await refresh_tokens(RefreshCommand(bob.tokens.refresh_token))


async def test_a_deleted_account_cannot_log_in(
    delete_account: DeleteAccount, authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    await delete_account(deleting(alice, PASSWORD))

    with pytest.raises(InvalidCredentials) as raised:
        await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))

    assert raised.value.context["reason"] == "unknown_email"


async def test_the_address_of_a_deleted_account_can_be_registered_again(
    delete_account: DeleteAccount,
    register_user: RegisterUser,
    get_current_user: GetCurrentUser,
    alice: Registered,
) -> None:
    await delete_account(deleting(alice, PASSWORD))

    again = await register_user(RegisterCommand("Alice@Example.com", "Alice Again", NEW_PASSWORD))

    assert again.user.id != alice.user.id
    assert (await get_current_user(CurrentUserQuery(again.tokens.access_token))).id == (
        again.user.id
    )
    # The old account's tokens do not open the new one.
    with pytest.raises(InvalidToken):
        await get_current_user(CurrentUserQuery(alice.tokens.access_token))


async def test_the_security_history_outlives_the_account(
    delete_account: DeleteAccount,
    list_security_events: ListSecurityEvents,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await delete_account(deleting(alice, PASSWORD))

    [registration] = events_of(database, "user_registration")
    assert registration.user_id == alice.user.id
    [deletion] = events_of(database, "account_deleted")
    assert deletion.user_id == alice.user.id
    assert deletion.occurred_at == clock.now()
    assert deletion.data == {"email": "alice@example.com"}
    assert (deletion.client_ip, deletion.user_agent) == ("203.0.113.99", "pytest-delete")
    page = await list_security_events(SecurityEventsQuery(alice.user))
    assert {e.type for e in page.items} == {"user_registration", "account_deleted"}


# --- refusals ------------------------------------------------------------------------------


async def test_a_wrong_password_is_invalid_credentials_and_deletes_nothing(
    delete_account: DeleteAccount,
    get_current_user: GetCurrentUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    before = counts(database)

    with pytest.raises(InvalidCredentials) as raised:
        await delete_account(deleting(alice, "WrongPassword123!"))

    assert raised.value.code == "INVALID_CREDENTIALS"
    assert raised.value.message == "Invalid email or password"
    assert raised.value.context == {"user_id": alice.user.id, "reason": "delete"}
    assert counts(database) == before
    assert await stored_user(database, alice.user.id) == alice.user
    await get_current_user(CurrentUserQuery(alice.tokens.access_token))


async def test_a_password_over_1024_characters_is_a_validation_error(
    delete_account: DeleteAccount, alice: Registered, database: MemoryDatabase
) -> None:
    before = counts(database)

    with pytest.raises(ValidationFailed) as raised:
        await delete_account(deleting(alice, "x" * 1025))

    assert raised.value.field == "password"
    assert counts(database) == before


async def test_deleting_twice_with_the_same_session_is_refused(
    delete_account: DeleteAccount, alice: Registered, database: MemoryDatabase
) -> None:
    await delete_account(deleting(alice, PASSWORD))

    with pytest.raises(InvalidToken):
        await delete_account(deleting(alice, PASSWORD))

    assert len(events_of(database, "account_deleted")) == 1


async def test_a_deletion_racing_a_password_change_does_not_outlive_it(
    change_password: ChangePassword,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    # Regression: the deletion checked the old password, the owner changed it (ending every
    # session, this request's included), and the deletion went ahead anyway.
    racing = VerifyThenMeanwhile(
        lambda: change_password(ChangePasswordCommand(alice.user, PASSWORD, NEW_PASSWORD))
    )
    delete = DeleteAccount(uow=InMemoryUnitOfWork(database), hasher=racing, clock=clock)
    try:
        with pytest.raises(InvalidToken) as raised:
            await delete(deleting(alice, PASSWORD))
    finally:
        racing.close()

    assert raised.value.context == {"user_id": alice.user.id, "reason": "changed meanwhile"}
    assert await stored_user(database, alice.user.id) is not None
    assert events_of(database, "account_deleted") == []
