"""E-mail verification: RequestVerification e-mails a one-time link, VerifyEmail spends it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import MemoryDatabase
from neodyme_domain import InvalidLink, RequestOrigin, User
from neodyme_domain.tokens.model import digest
from neodyme_domain.use_cases import (
    ChangePassword,
    ChangePasswordCommand,
    CurrentUserQuery,
    GetCurrentUser,
    PasswordResetRequest,
    Registered,
    RequestPasswordReset,
    RequestVerification,
    SetUserActive,
    SetUserActiveCommand,
    VerificationRequest,
    VerifyEmail,
    VerifyEmailCommand,
)
from tests.unit.domain.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    counts,
    emails_of,
    events_of,
    link_token,
    stored_user,
)

ORIGIN = RequestOrigin(client_ip="192.0.2.10", user_agent="pytest-verify")
VERIFY_PATH = "/verify-email"


async def verification_token(
    request_verification: RequestVerification, database: MemoryDatabase, user: User
) -> str:
    """Ask for a verification e-mail and return the token of the link it carries."""
    await request_verification(VerificationRequest(user, origin=ORIGIN))
    return link_token(emails_of(database, "email_verification")[-1], VERIFY_PATH)


async def invalid_link(verify_email: VerifyEmail, token: str) -> InvalidLink:
    with pytest.raises(InvalidLink) as raised:
        await verify_email(VerifyEmailCommand(token, origin=ORIGIN))
    assert raised.value.code == "INVALID_TOKEN"
    return raised.value


# --- RequestVerification -------------------------------------------------------------------


async def test_a_verification_email_carries_a_one_time_link(
    request_verification: RequestVerification, alice: Registered, database: MemoryDatabase
) -> None:
    result = await request_verification(VerificationRequest(alice.user))

    assert result is None
    [email] = emails_of(database, "email_verification")
    assert email.to == "alice@example.com"
    assert email.data["user_id"] == str(alice.user.id)
    assert "Alice Liddell" in email.body
    assert email.data["link"].startswith("https://app.example/verify-email?token=")
    token = link_token(email, VERIFY_PATH)
    assert token not in database.state.one_time_tokens
    assert database.state.one_time_tokens[digest(token)].purpose == "email_verification"


async def test_a_verification_request_is_recorded_with_its_origin(
    request_verification: RequestVerification,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await request_verification(VerificationRequest(alice.user, origin=ORIGIN))

    [event] = events_of(database, "verification_requested")
    assert event.user_id == alice.user.id
    assert event.occurred_at == clock.now()
    assert (event.client_ip, event.user_agent) == ("192.0.2.10", "pytest-verify")


async def test_an_already_verified_address_gets_no_email_and_the_same_answer(
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    token = await verification_token(request_verification, database, alice.user)
    verified = await verify_email(VerifyEmailCommand(token))
    before = counts(database)

    result = await request_verification(VerificationRequest(verified))

    assert result is None
    assert counts(database) == before
    assert len(emails_of(database, "email_verification")) == 1


# --- VerifyEmail ---------------------------------------------------------------------------


async def test_verifying_marks_the_user_verified_and_persists_it(
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    get_current_user: GetCurrentUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    token = await verification_token(request_verification, database, alice.user)
    clock.advance(timedelta(minutes=5))

    user = await verify_email(VerifyEmailCommand(token, origin=ORIGIN))

    assert user.id == alice.user.id
    assert user.is_verified is True
    assert user.updated_at == clock.now()
    assert await stored_user(database, alice.user.id) == user
    # Verifying is not a credential change: the session goes on.
    current = await get_current_user(CurrentUserQuery(alice.tokens.access_token))
    assert current.is_verified is True


async def test_verifying_is_recorded_and_spends_the_link(
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    token = await verification_token(request_verification, database, alice.user)
    clock.advance(timedelta(minutes=5))

    await verify_email(VerifyEmailCommand(token, origin=ORIGIN))

    [event] = events_of(database, "email_verified")
    assert event.user_id == alice.user.id
    assert event.occurred_at == clock.now()
    assert (event.client_ip, event.user_agent) == ("192.0.2.10", "pytest-verify")
    assert database.state.one_time_tokens[digest(token)].used_at == clock.now()


async def test_a_verification_link_works_only_once(
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    token = await verification_token(request_verification, database, alice.user)
    await verify_email(VerifyEmailCommand(token))

    await invalid_link(verify_email, token)

    assert len(events_of(database, "email_verified")) == 1


@pytest.mark.parametrize("late", [timedelta(hours=1), timedelta(days=2)])
async def test_an_expired_verification_link_is_refused(
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
    late: timedelta,
) -> None:
    token = await verification_token(request_verification, database, alice.user)
    clock.advance(late)

    await invalid_link(verify_email, token)

    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert user.is_verified is False


async def test_a_verification_link_works_just_before_it_expires(
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    token = await verification_token(request_verification, database, alice.user)
    clock.advance(timedelta(minutes=59, seconds=59))

    assert (await verify_email(VerifyEmailCommand(token))).is_verified is True


@pytest.mark.parametrize("token", ["", "no-such-token", "b" * 43])
async def test_an_unknown_verification_token_is_refused(
    verify_email: VerifyEmail, alice: Registered, database: MemoryDatabase, token: str
) -> None:
    before = counts(database)

    await invalid_link(verify_email, token)

    assert counts(database) == before


async def test_a_reset_token_cannot_verify_an_address(
    request_password_reset: RequestPasswordReset,
    verify_email: VerifyEmail,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    await request_password_reset(PasswordResetRequest("alice@example.com"))
    token = link_token(emails_of(database, "password_reset")[0], "/reset-password")

    await invalid_link(verify_email, token)

    assert database.state.one_time_tokens[digest(token)].used_at is None


async def test_a_link_verifies_only_the_account_it_was_sent_for(
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
) -> None:
    token = await verification_token(request_verification, database, bob.user)

    user = await verify_email(VerifyEmailCommand(token))

    assert user.id == bob.user.id
    alice_now = await stored_user(database, alice.user.id)
    assert alice_now is not None
    assert alice_now.is_verified is False


async def test_a_verification_link_dies_with_a_password_change(
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    change_password: ChangePassword,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    token = await verification_token(request_verification, database, alice.user)

    await change_password(ChangePasswordCommand(alice.user, PASSWORD, NEW_PASSWORD))

    await invalid_link(verify_email, token)


async def test_a_verification_link_of_a_deactivated_user_is_refused(
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    set_user_active: SetUserActive,
    alice: Registered,
    admin: Registered,
    database: MemoryDatabase,
) -> None:
    token = await verification_token(request_verification, database, alice.user)

    await set_user_active(SetUserActiveCommand(admin.user, alice.user.id, is_active=False))

    await invalid_link(verify_email, token)
