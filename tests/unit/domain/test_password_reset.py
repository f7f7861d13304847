"""Forgotten passwords: RequestPasswordReset e-mails a one-time link, ResetPassword spends it.

The request reveals nothing about which addresses have accounts; the link works once,
for an hour, and only while nothing else has changed the account's credentials.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import (
    InvalidCredentials,
    InvalidLink,
    InvalidToken,
    RequestOrigin,
    ValidationFailed,
    WeakPassword,
)
from neodyme_domain.model import Email, User
from neodyme_domain.tokens.model import OneTimePurpose, digest
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    ChangePassword,
    ChangePasswordCommand,
    CurrentUserQuery,
    DeleteAccount,
    DeleteAccountCommand,
    GetCurrentUser,
    LinkSettings,
    PasswordResetRequest,
    RefreshCommand,
    RefreshTokens,
    Registered,
    RequestPasswordReset,
    RequestVerification,
    ResetPassword,
    ResetPasswordCommand,
    SetUserActive,
    SetUserActiveCommand,
    VerificationRequest,
)
from neodyme_domain.use_cases.links import issue_link
from tests.unit.domain.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    counts,
    emails_of,
    events_of,
    link_token,
    stored_user,
)

ORIGIN = RequestOrigin(client_ip="203.0.113.50", user_agent="pytest-reset")
RESET_PATH = "/reset-password"


async def reset_token(
    request_password_reset: RequestPasswordReset, database: MemoryDatabase, email: str
) -> str:
    """Ask for a reset of ``email`` and return the token of the link that was e-mailed."""
    await request_password_reset(PasswordResetRequest(email, origin=ORIGIN))
    return link_token(emails_of(database, "password_reset")[-1], RESET_PATH)


async def invalid_link(reset_password: ResetPassword, token: str, password: str) -> InvalidLink:
    with pytest.raises(InvalidLink) as raised:
        await reset_password(ResetPasswordCommand(token, password, origin=ORIGIN))
    assert raised.value.code == "INVALID_TOKEN"
    assert raised.value.message == "The link is invalid, expired or already used"
    return raised.value


async def logs_in(authenticate_user: AuthenticateUser, email: str, password: str) -> bool:
    try:
        await authenticate_user(AuthenticateCommand(email, password))
    except InvalidCredentials:
        return False
    return True


# --- RequestPasswordReset --------------------------------------------------------------------


async def test_a_known_address_gets_a_reset_email_with_a_one_time_link(
    request_password_reset: RequestPasswordReset,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    result = await request_password_reset(PasswordResetRequest("alice@example.com"))

    assert result is None
    [email] = emails_of(database, "password_reset")
    assert email.to == "alice@example.com"
    assert email.data["user_id"] == str(alice.user.id)
    assert "Alice Liddell" in email.body
    assert "60 minutes" in email.body
    assert email.data["link"].startswith("https://app.example/reset-password?token=")
    token = link_token(email, RESET_PATH)
    assert len(base64.urlsafe_b64decode(token + "=")) == 32  # 256 random bits, URL-safe


async def test_the_reset_token_is_stored_as_a_digest_only(
    request_password_reset: RequestPasswordReset,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")

    assert token not in database.state.one_time_tokens
    record = database.state.one_time_tokens[digest(token)]
    assert record.user_id == alice.user.id
    assert record.purpose == "password_reset"
    assert record.created_at == clock.now()
    assert record.expires_at == clock.now() + timedelta(hours=1)
    assert record.used_at is None


@pytest.mark.parametrize(
    "public_url", ["https://example.org/SANDBOX", "https://example.org/SANDBOX/"]
)
async def test_the_link_joins_the_public_url_and_its_path_with_one_slash(
    alice: Registered, database: MemoryDatabase, clock: ManualClock, public_url: str
) -> None:
    links = LinkSettings(public_url=public_url, ttl=timedelta(hours=1))
    request = RequestPasswordReset(uow=InMemoryUnitOfWork(database), clock=clock, links=links)

    await request(PasswordResetRequest("alice@example.com"))

    [email] = emails_of(database, "password_reset")
    assert email.data["link"].startswith("https://example.org/SANDBOX/reset-password?token=")


async def test_the_address_is_matched_whatever_its_case(
    request_password_reset: RequestPasswordReset,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    await request_password_reset(PasswordResetRequest("  ALICE@Example.COM "))

    [email] = emails_of(database, "password_reset")
    assert email.to == "alice@example.com"


async def test_a_reset_request_is_recorded_with_its_origin(
    request_password_reset: RequestPasswordReset,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await request_password_reset(PasswordResetRequest("alice@example.com", origin=ORIGIN))

    [event] = events_of(database, "password_reset_requested")
    assert event.user_id == alice.user.id
    assert event.occurred_at == clock.now()
    assert event.data == {"email": "alice@example.com"}
    assert (event.client_ip, event.user_agent) == ("203.0.113.50", "pytest-reset")


async def test_an_unknown_address_gets_no_email_but_the_same_answer_and_an_event(
    request_password_reset: RequestPasswordReset,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    before = counts(database)

    result = await request_password_reset(PasswordResetRequest("nobody@example.com", origin=ORIGIN))

    assert result is None
    assert emails_of(database, "password_reset") == []
    assert database.state.one_time_tokens == {}
    assert counts(database).outbox == before.outbox
    [event] = events_of(database, "password_reset_requested")
    assert event.user_id is None
    assert event.data == {"email": "nobody@example.com"}
    assert event.client_ip == "203.0.113.50"


async def test_an_inactive_account_gets_no_reset_email(
    request_password_reset: RequestPasswordReset,
    set_user_active: SetUserActive,
    alice: Registered,
    admin: Registered,
    database: MemoryDatabase,
) -> None:
    await set_user_active(SetUserActiveCommand(admin.user, alice.user.id, is_active=False))

    result = await request_password_reset(PasswordResetRequest("alice@example.com"))

    assert result is None
    assert emails_of(database, "password_reset") == []
    assert database.state.one_time_tokens == {}
    [event] = events_of(database, "password_reset_requested")
    assert event.user_id == alice.user.id


@pytest.mark.parametrize("address", ["", "not an email", "alice@", "alice@@example.com"])
async def test_a_malformed_address_is_a_validation_error(
    request_password_reset: RequestPasswordReset,
    alice: Registered,
    database: MemoryDatabase,
    address: str,
) -> None:
    before = counts(database)

    with pytest.raises(ValidationFailed) as raised:
        await request_password_reset(PasswordResetRequest(address))

    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.field == "email"
    assert counts(database) == before


async def test_each_request_sends_its_own_link_and_each_works(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    first = await reset_token(request_password_reset, database, "alice@example.com")
    second = await reset_token(request_password_reset, database, "alice@example.com")
    assert first != second

    await reset_password(ResetPasswordCommand(second, NEW_PASSWORD))

    # The reset moved the token version: the older link died with the old password.
    await invalid_link(reset_password, first, "YetAnotherOne789#")


# --- ResetPassword: success ------------------------------------------------------------------


async def test_a_reset_sets_the_new_password(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    hasher: Argon2Hasher,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")

    result = await reset_password(ResetPasswordCommand(token, NEW_PASSWORD, origin=ORIGIN))

    assert result is None
    assert await logs_in(authenticate_user, "alice@example.com", NEW_PASSWORD)
    assert not await logs_in(authenticate_user, "alice@example.com", PASSWORD)
    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert await hasher.verify(user.hashed_password, NEW_PASSWORD)


async def test_a_reset_marks_the_address_verified(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    assert alice.user.is_verified is False
    token = await reset_token(request_password_reset, database, "alice@example.com")
    clock.advance(timedelta(minutes=10))

    await reset_password(ResetPasswordCommand(token, NEW_PASSWORD))

    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert user.is_verified is True
    assert user.updated_at == clock.now()


async def test_a_reset_ends_every_session_of_the_user(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    refresh_tokens: RefreshTokens,
    get_current_user: GetCurrentUser,
    alice: Registered,
    bob: Registered,
    database: MemoryDatabase,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")

    await reset_password(ResetPasswordCommand(token, NEW_PASSWORD))

    with pytest.raises(InvalidToken):
        await refresh_tokens(RefreshCommand(alice.tokens.refresh_token))
    with pytest.raises(InvalidToken):
        await get_current_user(CurrentUserQuery(alice.tokens.access_token))
    alices = [r for r in database.state.refresh_tokens.values() if r.user_id == alice.user.id]
    assert alices
    assert all(r.revoked_at is not None for r in alices)
    # Nobody else's.
    assert (await get_current_user(CurrentUserQuery(bob.tokens.access_token))).id == bob.user.id
    await refresh_tokens(RefreshCommand(bob.tokens.refresh_token))


async def test_a_reset_is_recorded_with_its_origin(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")
    clock.advance(timedelta(minutes=2))

    await reset_password(ResetPasswordCommand(token, NEW_PASSWORD, origin=ORIGIN))

    [event] = events_of(database, "password_reset")
    assert event.user_id == alice.user.id
    assert event.occurred_at == clock.now()
    assert (event.client_ip, event.user_agent) == ("203.0.113.50", "pytest-reset")
    assert database.state.one_time_tokens[digest(token)].used_at == clock.now()


async def test_a_link_works_just_before_it_expires(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")
    clock.advance(timedelta(minutes=59, seconds=59))

    await reset_password(ResetPasswordCommand(token, NEW_PASSWORD))

    assert await logs_in(authenticate_user, "alice@example.com", NEW_PASSWORD)


# --- ResetPassword: refusals -----------------------------------------------------------------


async def test_a_link_works_only_once(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")
    await reset_password(ResetPasswordCommand(token, NEW_PASSWORD))

    await invalid_link(reset_password, token, "SomeoneElses789#")

    assert await logs_in(authenticate_user, "alice@example.com", NEW_PASSWORD)
    assert len(events_of(database, "password_reset")) == 1


@pytest.mark.parametrize("late", [timedelta(hours=1), timedelta(hours=1, seconds=1)])
async def test_an_expired_link_is_refused(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
    late: timedelta,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")
    clock.advance(late)

    await invalid_link(reset_password, token, NEW_PASSWORD)

    assert await logs_in(authenticate_user, "alice@example.com", PASSWORD)
    assert events_of(database, "password_reset") == []


async def test_a_weak_password_is_refused_without_spending_the_link(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")
    before_user = await stored_user(database, alice.user.id)

    with pytest.raises(WeakPassword) as raised:
        await reset_password(ResetPasswordCommand(token, "Password123"))

    assert raised.value.details == {"unmet": ["special"]}
    assert await stored_user(database, alice.user.id) == before_user
    assert database.state.one_time_tokens[digest(token)].used_at is None
    await reset_password(ResetPasswordCommand(token, NEW_PASSWORD))
    assert await logs_in(authenticate_user, "alice@example.com", NEW_PASSWORD)


async def test_an_over_long_password_is_a_validation_error_and_keeps_the_link(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")

    with pytest.raises(ValidationFailed) as raised:
        await reset_password(ResetPasswordCommand(token, "Aa1!" * 257))

    assert raised.value.field == "password"
    assert database.state.one_time_tokens[digest(token)].used_at is None


async def test_a_bad_link_is_reported_before_a_weak_password(
    reset_password: ResetPassword, alice: Registered
) -> None:
    # The policy's verdict is nobody's business without a valid link.
    await invalid_link(reset_password, "no-such-token", "weak")


@pytest.mark.parametrize("token", ["", "no-such-token", "a" * 43, "%00", "é"])
async def test_an_unknown_token_is_refused(
    reset_password: ResetPassword, alice: Registered, database: MemoryDatabase, token: str
) -> None:
    before = counts(database)

    await invalid_link(reset_password, token, NEW_PASSWORD)

    assert counts(database) == before


async def test_an_access_or_refresh_token_is_not_a_reset_token(
    reset_password: ResetPassword, alice: Registered
) -> None:
    await invalid_link(reset_password, alice.tokens.access_token, NEW_PASSWORD)
    await invalid_link(reset_password, alice.tokens.refresh_token, NEW_PASSWORD)


async def test_a_verification_token_cannot_reset_a_password(
    request_verification: RequestVerification,
    reset_password: ResetPassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    await request_verification(VerificationRequest(alice.user))
    [email] = emails_of(database, "email_verification")
    token = link_token(email, "/verify-email")

    await invalid_link(reset_password, token, NEW_PASSWORD)

    assert await logs_in(authenticate_user, "alice@example.com", PASSWORD)
    assert database.state.one_time_tokens[digest(token)].used_at is None


async def test_a_link_dies_when_the_password_is_changed_another_way(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    change_password: ChangePassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")

    await change_password(ChangePasswordCommand(alice.user, PASSWORD, NEW_PASSWORD))

    await invalid_link(reset_password, token, "Attacker'sChoice789!")
    assert await logs_in(authenticate_user, "alice@example.com", NEW_PASSWORD)


async def test_a_link_dies_when_the_user_is_deactivated_and_stays_dead_after_reactivation(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    set_user_active: SetUserActive,
    alice: Registered,
    admin: Registered,
    database: MemoryDatabase,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")

    await set_user_active(SetUserActiveCommand(admin.user, alice.user.id, is_active=False))
    await invalid_link(reset_password, token, NEW_PASSWORD)

    await set_user_active(SetUserActiveCommand(admin.user, alice.user.id, is_active=True))
    await invalid_link(reset_password, token, NEW_PASSWORD)


async def test_a_link_of_a_deleted_account_is_refused(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    delete_account: DeleteAccount,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")

    await delete_account(DeleteAccountCommand(alice.user, PASSWORD))

    await invalid_link(reset_password, token, NEW_PASSWORD)
    assert database.state.one_time_tokens == {}


async def test_a_link_whose_account_is_gone_is_refused_not_a_crash(
    reset_password: ResetPassword,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
    links: LinkSettings,
) -> None:
    # A store that kept the link of an account it no longer has (the SQL schema cascades,
    # but the link's check must not depend on it).
    ghost = User.register(
        email=Email.parse("ghost@example.com"),
        full_name="Nobody Anymore",
        hashed_password=alice.user.hashed_password,
        now=clock.now(),
    )
    async with InMemoryUnitOfWork(database) as uow:
        link = await issue_link(uow, ghost, OneTimePurpose.PASSWORD_RESET, links, clock.now())
        await uow.commit()
    [token] = parse_qs(urlsplit(link).query)["token"]

    await invalid_link(reset_password, token, NEW_PASSWORD)


async def test_two_concurrent_resets_with_one_link_let_exactly_one_through(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")
    candidates = [NEW_PASSWORD, "ConcurrentOne789#"]

    outcomes = await asyncio.gather(
        *(reset_password(ResetPasswordCommand(token, p)) for p in candidates),
        return_exceptions=True,
    )

    succeeded = [p for p, outcome in zip(candidates, outcomes, strict=True) if outcome is None]
    failed = [outcome for outcome in outcomes if outcome is not None]
    assert len(succeeded) == 1
    assert [type(error) for error in failed] == [InvalidLink]
    assert len(events_of(database, "password_reset")) == 1
    [winner] = succeeded
    [loser] = [p for p in candidates if p != winner]
    assert await logs_in(authenticate_user, "alice@example.com", winner)
    assert not await logs_in(authenticate_user, "alice@example.com", loser)
