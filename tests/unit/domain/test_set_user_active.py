"""SetUserActive: a superuser deactivates an account and it stops working at once;
reactivation lets the user log in again, but revives none of the old sessions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import (
    AccountInactive,
    Forbidden,
    InvalidToken,
    RequestOrigin,
    User,
    UserNotFound,
)
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    CurrentUserQuery,
    GetCurrentUser,
    RefreshCommand,
    RefreshTokens,
    RegisterCommand,
    Registered,
    RegisterUser,
    SetUserActive,
    SetUserActiveCommand,
)
from tests.unit.domain.helpers import (
    PASSWORD,
    VerifyThenMeanwhile,
    counts,
    events_of,
    stored_user,
)

ORIGIN = RequestOrigin(client_ip="192.0.2.200", user_agent="pytest-admin")


def setting(requester: User, target: uuid.UUID, *, active: bool) -> SetUserActiveCommand:
    return SetUserActiveCommand(requester, target, is_active=active, origin=ORIGIN)


# --- deactivation --------------------------------------------------------------------------


async def test_deactivation_returns_and_stores_the_inactive_user(
    set_user_active: SetUserActive,
    alice: Registered,
    admin: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(minutes=1))

    user = await set_user_active(setting(admin.user, alice.user.id, active=False))

    assert user.id == alice.user.id
    assert user.is_active is False
    assert user.updated_at == clock.now()
    assert await stored_user(database, alice.user.id) == user


async def test_a_deactivated_users_access_token_is_refused_at_once(
    set_user_active: SetUserActive,
    get_current_user: GetCurrentUser,
    alice: Registered,
    admin: Registered,
) -> None:
    await set_user_active(setting(admin.user, alice.user.id, active=False))

    with pytest.raises(InvalidToken) as raised:
        await get_current_user(CurrentUserQuery(alice.tokens.access_token))
    assert raised.value.code == "INVALID_TOKEN"


async def test_a_deactivated_users_refresh_tokens_are_revoked(
    set_user_active: SetUserActive,
    refresh_tokens: RefreshTokens,
    alice: Registered,
    bob: Registered,
    admin: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await set_user_active(setting(admin.user, alice.user.id, active=False))

    with pytest.raises(InvalidToken):
        await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))
    records = database.state.refresh_tokens.values()
    assert all(r.revoked_at == clock.now() for r in records if r.user_id == alice.user.id)
    assert all(r.revoked_at is None for r in records if r.user_id != alice.user.id)
    await refresh_tokens(RefreshCommand(bob.tokens.refresh_token))


async def test_a_deactivated_user_with_the_right_password_is_told_the_account_is_inactive(
    set_user_active: SetUserActive,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    admin: Registered,
) -> None:
    await set_user_active(setting(admin.user, alice.user.id, active=False))

    with pytest.raises(AccountInactive) as raised:
        await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))

    assert raised.value.code == "ACCOUNT_INACTIVE"


async def test_deactivation_is_recorded_with_the_administrator_and_origin(
    set_user_active: SetUserActive,
    alice: Registered,
    admin: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await set_user_active(setting(admin.user, alice.user.id, active=False))

    [event] = events_of(database, "user_deactivated")
    assert event.user_id == alice.user.id
    assert event.data == {"by": str(admin.user.id)}
    assert event.occurred_at == clock.now()
    assert (event.client_ip, event.user_agent) == ("192.0.2.200", "pytest-admin")


async def test_a_superuser_may_deactivate_another_superuser(
    set_user_active: SetUserActive,
    register_user: RegisterUser,
    admin: Registered,
) -> None:
    other = await register_user(
        RegisterCommand("root@example.com", "Other Admin", PASSWORD, is_superuser=True)
    )

    user = await set_user_active(setting(admin.user, other.user.id, active=False))

    assert user.is_active is False


async def test_deactivating_an_inactive_user_changes_and_records_nothing(
    set_user_active: SetUserActive,
    alice: Registered,
    admin: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    first = await set_user_active(setting(admin.user, alice.user.id, active=False))
    before = counts(database)
    clock.advance(timedelta(minutes=1))

    again = await set_user_active(setting(admin.user, alice.user.id, active=False))

    assert again == first
    assert counts(database) == before
    assert len(events_of(database, "user_deactivated")) == 1


# --- reactivation --------------------------------------------------------------------------


async def test_a_reactivated_user_can_log_in_again(
    set_user_active: SetUserActive,
    authenticate_user: AuthenticateUser,
    get_current_user: GetCurrentUser,
    alice: Registered,
    admin: Registered,
) -> None:
    await set_user_active(setting(admin.user, alice.user.id, active=False))

    user = await set_user_active(setting(admin.user, alice.user.id, active=True))

    assert user.is_active is True
    session = await authenticate_user(AuthenticateCommand("alice@example.com", PASSWORD))
    assert (await get_current_user(CurrentUserQuery(session.tokens.access_token))).id == (
        alice.user.id
    )


async def test_reactivation_revives_none_of_the_sessions_deactivation_ended(
    set_user_active: SetUserActive,
    get_current_user: GetCurrentUser,
    refresh_tokens: RefreshTokens,
    alice: Registered,
    admin: Registered,
) -> None:
    await set_user_active(setting(admin.user, alice.user.id, active=False))
    await set_user_active(setting(admin.user, alice.user.id, active=True))

    with pytest.raises(InvalidToken):
        await get_current_user(CurrentUserQuery(alice.tokens.access_token))
    with pytest.raises(InvalidToken):
        await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))


async def test_reactivation_is_recorded_with_the_administrator(
    set_user_active: SetUserActive,
    alice: Registered,
    admin: Registered,
    database: MemoryDatabase,
) -> None:
    await set_user_active(setting(admin.user, alice.user.id, active=False))

    await set_user_active(setting(admin.user, alice.user.id, active=True))

    [event] = events_of(database, "user_activated")
    assert event.user_id == alice.user.id
    assert event.data == {"by": str(admin.user.id)}


async def test_activating_an_active_user_changes_and_records_nothing(
    set_user_active: SetUserActive,
    get_current_user: GetCurrentUser,
    alice: Registered,
    admin: Registered,
    database: MemoryDatabase,
) -> None:
    before = counts(database)

    user = await set_user_active(setting(admin.user, alice.user.id, active=True))

    assert user == alice.user
    assert counts(database) == before
    await get_current_user(CurrentUserQuery(alice.tokens.access_token))


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("active", [False, True])
async def test_a_user_who_is_not_a_superuser_may_not_change_anyones_state(
    set_user_active: SetUserActive,
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
    active: bool,
) -> None:
    before = counts(database)

    with pytest.raises(Forbidden) as raised:
        await set_user_active(setting(alice.user, bob.user.id, active=active))

    assert raised.value.code == "FORBIDDEN"
    assert raised.value.context == {"requester": alice.user.id, "action": "set active"}
    assert counts(database) == before
    assert await stored_user(database, bob.user.id) == bob.user


async def test_a_user_who_is_not_a_superuser_gets_forbidden_for_a_missing_id_too(
    set_user_active: SetUserActive, alice: Registered
) -> None:
    with pytest.raises(Forbidden):
        await set_user_active(setting(alice.user, uuid.uuid4(), active=False))


async def test_a_missing_id_is_user_not_found(
    set_user_active: SetUserActive, admin: Registered, database: MemoryDatabase
) -> None:
    missing = uuid.uuid4()
    before = counts(database)

    with pytest.raises(UserNotFound) as raised:
        await set_user_active(setting(admin.user, missing, active=False))

    assert raised.value.code == "USER_NOT_FOUND"
    assert raised.value.context == {"user_id": missing}
    assert counts(database) == before


async def test_a_superuser_cannot_deactivate_themselves(
    set_user_active: SetUserActive,
    get_current_user: GetCurrentUser,
    admin: Registered,
    database: MemoryDatabase,
) -> None:
    before = counts(database)

    with pytest.raises(Forbidden) as raised:
        await set_user_active(setting(admin.user, admin.user.id, active=False))

    assert raised.value.message == "You cannot deactivate your own account"
    assert counts(database) == before
    await get_current_user(CurrentUserQuery(admin.tokens.access_token))


async def test_a_superuser_may_activate_themselves_which_changes_nothing(
    set_user_active: SetUserActive, admin: Registered, database: MemoryDatabase
) -> None:
    before = counts(database)

    user = await set_user_active(setting(admin.user, admin.user.id, active=True))

    assert user == admin.user
    assert counts(database) == before


async def test_a_deactivated_superuser_can_no_longer_administer(
    set_user_active: SetUserActive,
    get_current_user: GetCurrentUser,
    register_user: RegisterUser,
    admin: Registered,
) -> None:
    other = await register_user(
        RegisterCommand("root@example.com", "Other Admin", PASSWORD, is_superuser=True)
    )
    await set_user_active(setting(admin.user, other.user.id, active=False))

    # Every administrative request starts by resolving the token: it is refused.
    with pytest.raises(InvalidToken):
        await get_current_user(CurrentUserQuery(other.tokens.access_token))


# --- races ---------------------------------------------------------------------------------


async def test_a_login_racing_a_deactivation_gets_no_session_and_is_told_why(
    set_user_active: SetUserActive,
    refresh_tokens: RefreshTokens,
    alice: Registered,
    admin: Registered,
    database: MemoryDatabase,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    # Regression: the login checked the password, the deactivation committed (revoking every
    # refresh token that existed), then the login stored a new one, which a later
    # reactivation would have brought back to life.
    racing = VerifyThenMeanwhile(
        lambda: set_user_active(setting(admin.user, alice.user.id, active=False))
    )
    authenticate = AuthenticateUser(
        uow=InMemoryUnitOfWork(database), hasher=racing, tokens=tokens, clock=clock
    )
    try:
        with pytest.raises(AccountInactive):
            await authenticate(AuthenticateCommand("alice@example.com", PASSWORD, ORIGIN))
    finally:
        racing.close()

    await set_user_active(setting(admin.user, alice.user.id, active=True))
    alices = [r for r in database.state.refresh_tokens.values() if r.user_id == alice.user.id]
    assert all(r.revoked_at is not None for r in alices)
    [failed] = events_of(database, "login_failed")
    assert failed.data["reason"] == "inactive"
    assert events_of(database, "user_login") == []
