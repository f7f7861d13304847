"""ChangePassword: proving the current password, the policy, and every session ending."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import (
    InvalidCredentials,
    InvalidLink,
    InvalidToken,
    RequestOrigin,
    ValidationFailed,
    WeakPassword,
)
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    ChangePassword,
    ChangePasswordCommand,
    CurrentUserQuery,
    GetCurrentUser,
    PasswordResetRequest,
    RefreshCommand,
    RefreshTokens,
    Registered,
    RequestPasswordReset,
    ResetPassword,
    ResetPasswordCommand,
)
from tests.unit.domain.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    VerifyThenMeanwhile,
    counts,
    emails_of,
    events_of,
    link_token,
    set_active,
    stored_user,
)

ORIGIN = RequestOrigin(client_ip="198.51.100.20", user_agent="pytest-change")


def changing(registered: Registered, current: str, new: str) -> ChangePasswordCommand:
    return ChangePasswordCommand(registered.user, current, new, origin=ORIGIN)


async def login(authenticate_user: AuthenticateUser, email: str, password: str) -> None:
    await authenticate_user(AuthenticateCommand(email, password))


# --- success -------------------------------------------------------------------------------


async def test_after_a_change_the_new_password_logs_in_and_the_old_one_does_not(
    change_password: ChangePassword, authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))

    await login(authenticate_user, "alice@example.com", NEW_PASSWORD)
    with pytest.raises(InvalidCredentials) as raised:
        await login(authenticate_user, "alice@example.com", PASSWORD)
    assert raised.value.context["reason"] == "invalid_password"


async def test_a_change_stores_a_new_argon2_hash_and_moves_updated_at(
    change_password: ChangePassword,
    alice: Registered,
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(minutes=3))

    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))

    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert user.hashed_password.startswith("$argon2id$")
    assert NEW_PASSWORD not in user.hashed_password
    assert await hasher.verify(user.hashed_password, NEW_PASSWORD)
    assert user.updated_at == clock.now()
    assert user.token_version == alice.user.token_version + 1


async def test_a_change_revokes_every_refresh_token_of_the_user_and_no_one_elses(
    change_password: ChangePassword,
    refresh_tokens: RefreshTokens,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await login(authenticate_user, "alice@example.com", PASSWORD)  # a second session
    clock.advance(timedelta(minutes=1))

    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))

    records = database.state.refresh_tokens.values()
    alices = [r for r in records if r.user_id == alice.user.id]
    bobs = [r for r in records if r.user_id == bob.user.id]
    assert len(alices) == 2
    assert all(r.revoked_at == clock.now() for r in alices)
    assert all(r.revoked_at is None for r in bobs)
    with pytest.raises(InvalidToken):
        await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))
    await refresh_tokens(RefreshCommand(bob.tokens.refresh_token))


async def test_an_access_token_issued_before_the_change_is_refused_at_once(
    change_password: ChangePassword,
    get_current_user: GetCurrentUser,
    alice: Registered,
    bob: Registered,
) -> None:
    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))

    with pytest.raises(InvalidToken) as raised:
        await get_current_user(CurrentUserQuery(alice.tokens.access_token))
    assert raised.value.context["user_id"] == alice.user.id
    assert (await get_current_user(CurrentUserQuery(bob.tokens.access_token))).id == bob.user.id


async def test_a_session_started_after_the_change_works(
    change_password: ChangePassword,
    authenticate_user: AuthenticateUser,
    get_current_user: GetCurrentUser,
    refresh_tokens: RefreshTokens,
    alice: Registered,
) -> None:
    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))

    session = await authenticate_user(AuthenticateCommand("alice@example.com", NEW_PASSWORD))

    user = await get_current_user(CurrentUserQuery(session.tokens.access_token))
    assert user.id == alice.user.id
    await refresh_tokens(RefreshCommand(session.tokens.refresh_token))


async def test_each_change_ends_the_sessions_started_since_the_one_before(
    change_password: ChangePassword,
    authenticate_user: AuthenticateUser,
    get_current_user: GetCurrentUser,
    alice: Registered,
) -> None:
    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))
    session = await authenticate_user(AuthenticateCommand("alice@example.com", NEW_PASSWORD))
    user = await get_current_user(CurrentUserQuery(session.tokens.access_token))

    await change_password(ChangePasswordCommand(user, NEW_PASSWORD, "ThirdPassword789#"))

    with pytest.raises(InvalidToken):
        await get_current_user(CurrentUserQuery(session.tokens.access_token))


async def test_a_reset_link_issued_before_the_change_dies(
    change_password: ChangePassword,
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    await request_password_reset(PasswordResetRequest("alice@example.com"))
    [email] = emails_of(database, "password_reset")
    token = link_token(email, "/reset-password")

    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))

    with pytest.raises(InvalidLink) as raised:
        await reset_password(ResetPasswordCommand(token, "Attacker'sChoice789!"))
    assert raised.value.code == "INVALID_TOKEN"
    await login(authenticate_user, "alice@example.com", NEW_PASSWORD)


async def test_a_change_is_recorded_with_its_origin(
    change_password: ChangePassword,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))

    [event] = events_of(database, "password_changed")
    assert event.user_id == alice.user.id
    assert event.occurred_at == clock.now()
    assert (event.client_ip, event.user_agent) == ("198.51.100.20", "pytest-change")
    assert NEW_PASSWORD not in repr(event)


async def test_a_password_typed_differently_but_equal_in_nfkc_form_logs_in(
    change_password: ChangePassword, authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    composed = "Caf\u00e9Cr\u00e8me2024!"
    decomposed = "Cafe\u0301Cre\u0300me2024!"

    await change_password(changing(alice, PASSWORD, composed))

    await login(authenticate_user, "alice@example.com", decomposed)


# --- refusals ------------------------------------------------------------------------------


async def test_a_wrong_current_password_is_invalid_credentials_and_changes_nothing(
    change_password: ChangePassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    before_user = await stored_user(database, alice.user.id)
    before = counts(database)

    with pytest.raises(InvalidCredentials) as raised:
        await change_password(changing(alice, "WrongPassword123!", NEW_PASSWORD))

    assert raised.value.code == "INVALID_CREDENTIALS"
    assert raised.value.message == "Invalid email or password"
    assert raised.value.context == {"user_id": alice.user.id, "reason": "change"}
    assert await stored_user(database, alice.user.id) == before_user
    assert counts(database) == before
    assert all(r.revoked_at is None for r in database.state.refresh_tokens.values())
    await login(authenticate_user, "alice@example.com", PASSWORD)


async def test_a_weak_new_password_names_the_unmet_rules_and_changes_nothing(
    change_password: ChangePassword,
    get_current_user: GetCurrentUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    before_user = await stored_user(database, alice.user.id)
    before = counts(database)

    with pytest.raises(WeakPassword) as raised:
        await change_password(changing(alice, PASSWORD, "password"))

    assert raised.value.code == "WEAK_PASSWORD"
    assert "requirements not met" in raised.value.message
    assert raised.value.details == {"unmet": ["uppercase", "digit", "special"]}
    assert await stored_user(database, alice.user.id) == before_user
    assert counts(database) == before
    assert all(r.revoked_at is None for r in database.state.refresh_tokens.values())
    assert (await get_current_user(CurrentUserQuery(alice.tokens.access_token))).id == (
        alice.user.id
    )


async def test_the_current_password_is_checked_before_the_new_one(
    change_password: ChangePassword, alice: Registered
) -> None:
    # Someone without the password learns nothing about the policy's verdict.
    with pytest.raises(InvalidCredentials):
        await change_password(changing(alice, "WrongPassword123!", "weak"))


@pytest.mark.parametrize(("current", "new"), [("x" * 1025, NEW_PASSWORD), (PASSWORD, "Aa1!" * 257)])
async def test_a_password_over_1024_characters_is_a_validation_error(
    change_password: ChangePassword,
    alice: Registered,
    database: MemoryDatabase,
    current: str,
    new: str,
) -> None:
    before = counts(database)

    with pytest.raises(ValidationFailed) as raised:
        await change_password(changing(alice, current, new))

    assert raised.value.field == "password"
    assert counts(database) == before


async def test_a_user_deactivated_meanwhile_cannot_change_the_password(
    change_password: ChangePassword, alice: Registered, database: MemoryDatabase
) -> None:
    await set_active(database, alice.user.id, active=False)
    before_user = await stored_user(database, alice.user.id)

    with pytest.raises(InvalidToken) as raised:
        await change_password(changing(alice, PASSWORD, NEW_PASSWORD))

    assert raised.value.context["reason"] == "changed meanwhile"
    assert await stored_user(database, alice.user.id) == before_user
    assert events_of(database, "password_changed") == []


async def test_a_second_change_from_a_session_the_first_change_ended_is_refused(
    change_password: ChangePassword, authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    # Two tabs hold the same (now stale) user: the first change ends the second's session.
    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))

    with pytest.raises(InvalidToken):
        await change_password(changing(alice, PASSWORD, "ThirdPassword789#"))

    await login(authenticate_user, "alice@example.com", NEW_PASSWORD)


# --- races ---------------------------------------------------------------------------------


async def test_a_login_with_the_old_password_racing_the_change_gets_no_session(
    change_password: ChangePassword,
    alice: Registered,
    database: MemoryDatabase,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    # Regression: the login verified the old password, the change committed (revoking
    # every refresh token that existed), then the login stored a brand-new refresh token
    # that refreshed happily: a session that outlived the password change.
    racing = VerifyThenMeanwhile(lambda: change_password(changing(alice, PASSWORD, NEW_PASSWORD)))
    authenticate = AuthenticateUser(
        uow=InMemoryUnitOfWork(database), hasher=racing, tokens=tokens, clock=clock
    )
    try:
        with pytest.raises(InvalidCredentials) as raised:
            await authenticate(AuthenticateCommand("alice@example.com", PASSWORD, ORIGIN))
    finally:
        racing.close()

    assert raised.value.message == "Invalid email or password"
    assert raised.value.context == {"user_id": alice.user.id, "reason": "changed_meanwhile"}
    assert all(r.revoked_at is not None for r in database.state.refresh_tokens.values())
    assert events_of(database, "user_login") == []
    [failed] = events_of(database, "login_failed")
    assert (failed.user_id, failed.data["reason"]) == (alice.user.id, "changed_meanwhile")
    assert failed.client_ip == "198.51.100.20"


async def test_each_change_kills_the_links_issued_since_the_one_before(
    change_password: ChangePassword,
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    """Every change moves the token version on (not to a fixed value): a link issued
    between two changes dies with the second, although its session ended with the first."""
    await change_password(changing(alice, PASSWORD, NEW_PASSWORD))
    await request_password_reset(PasswordResetRequest("alice@example.com"))
    token = link_token(emails_of(database, "password_reset")[-1], "/reset-password")
    user = await stored_user(database, alice.user.id)
    assert user is not None

    await change_password(ChangePasswordCommand(user, NEW_PASSWORD, "ThirdPassword789#"))

    with pytest.raises(InvalidLink):
        await reset_password(ResetPasswordCommand(token, "Attacker'sChoice789!"))
