"""UpdateProfile: only the name is the user's to change, and updated_at tells when."""

from __future__ import annotations

from datetime import timedelta

import pytest

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import MemoryDatabase
from neodyme_domain import InvalidToken, RequestOrigin, ValidationFailed
from neodyme_domain.use_cases import (
    ChangePassword,
    ChangePasswordCommand,
    CurrentUserQuery,
    GetCurrentUser,
    Registered,
    RequestVerification,
    SetUserActive,
    SetUserActiveCommand,
    UpdateProfile,
    UpdateProfileCommand,
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

ORIGIN = RequestOrigin(client_ip="198.51.100.61", user_agent="pytest-profile")


def renaming(registered: Registered, full_name: str | None) -> UpdateProfileCommand:
    return UpdateProfileCommand(registered.user, full_name, origin=ORIGIN)


async def test_a_new_name_is_returned_and_persisted(
    update_profile: UpdateProfile,
    get_current_user: GetCurrentUser,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    user = await update_profile(renaming(alice, "Alice Pleasance Liddell"))

    assert user.full_name == "Alice Pleasance Liddell"
    assert await stored_user(database, alice.user.id) == user
    current = await get_current_user(CurrentUserQuery(alice.tokens.access_token))
    assert current.full_name == "Alice Pleasance Liddell"


async def test_the_new_name_is_trimmed(update_profile: UpdateProfile, alice: Registered) -> None:
    user = await update_profile(renaming(alice, "  Alice P. Liddell \t"))

    assert user.full_name == "Alice P. Liddell"


async def test_updated_at_moves_forward_and_created_at_stays(
    update_profile: UpdateProfile, alice: Registered, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=7))

    user = await update_profile(renaming(alice, "Alice Pleasance Liddell"))

    assert user.updated_at == clock.now()
    assert user.updated_at > alice.user.updated_at
    assert user.created_at == alice.user.created_at


async def test_a_rename_keeps_everything_else_and_the_session(
    update_profile: UpdateProfile,
    get_current_user: GetCurrentUser,
    alice: Registered,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(seconds=1))

    user = await update_profile(renaming(alice, "Alice Pleasance Liddell"))

    assert (user.id, user.email, user.hashed_password) == (
        alice.user.id,
        alice.user.email,
        alice.user.hashed_password,
    )
    assert (user.is_active, user.is_verified, user.is_superuser) == (True, False, False)
    assert user.token_version == alice.user.token_version
    await get_current_user(CurrentUserQuery(alice.tokens.access_token))


async def test_a_rename_is_recorded_with_its_origin(
    update_profile: UpdateProfile,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await update_profile(renaming(alice, "Alice Pleasance Liddell"))

    [event] = events_of(database, "profile_updated")
    assert event.user_id == alice.user.id
    assert event.occurred_at == clock.now()
    assert (event.client_ip, event.user_agent) == ("198.51.100.61", "pytest-profile")


async def test_no_name_changes_nothing(
    update_profile: UpdateProfile,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    before = counts(database)
    clock.advance(timedelta(minutes=1))

    user = await update_profile(renaming(alice, None))

    assert user == alice.user
    assert await stored_user(database, alice.user.id) == alice.user
    assert counts(database) == before


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 201, "must be at most 200 characters"),
        ("Alice\nBcc: everyone@example.com", "must not contain control characters"),
        ("Alice\x00", "must not contain control characters"),
        ("Alice \u202eecilA", "must not contain control characters"),
    ],
)
async def test_an_invalid_name_is_a_validation_error_and_changes_nothing(
    update_profile: UpdateProfile,
    alice: Registered,
    database: MemoryDatabase,
    name: str,
    problem: str,
) -> None:
    before = counts(database)

    with pytest.raises(ValidationFailed) as raised:
        await update_profile(renaming(alice, name))

    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.details == {"fields": [{"field": "full_name", "message": problem}]}
    assert await stored_user(database, alice.user.id) == alice.user
    assert counts(database) == before


async def test_a_name_of_exactly_200_characters_is_accepted(
    update_profile: UpdateProfile, alice: Registered
) -> None:
    user = await update_profile(renaming(alice, "y" * 200))

    assert user.full_name == "y" * 200


async def test_a_user_whose_sessions_were_revoked_meanwhile_cannot_rename(
    update_profile: UpdateProfile,
    change_password: ChangePassword,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    await change_password(ChangePasswordCommand(alice.user, PASSWORD, NEW_PASSWORD))
    before = await stored_user(database, alice.user.id)

    with pytest.raises(InvalidToken) as raised:
        await update_profile(renaming(alice, "Mallory"))

    assert raised.value.code == "INVALID_TOKEN"
    assert raised.value.context == {"user_id": alice.user.id, "reason": "changed meanwhile"}
    assert await stored_user(database, alice.user.id) == before
    assert events_of(database, "profile_updated") == []


async def test_a_user_deactivated_meanwhile_cannot_rename(
    update_profile: UpdateProfile,
    set_user_active: SetUserActive,
    alice: Registered,
    admin: Registered,
) -> None:
    await set_user_active(SetUserActiveCommand(admin.user, alice.user.id, is_active=False))

    with pytest.raises(InvalidToken):
        await update_profile(renaming(alice, "Mallory"))


async def test_a_rename_does_not_undo_what_committed_since_the_user_was_read(
    update_profile: UpdateProfile,
    request_verification: RequestVerification,
    verify_email: VerifyEmail,
    alice: Registered,
    database: MemoryDatabase,
) -> None:
    # alice.user predates the verification: writing that copy back would undo it.
    await request_verification(VerificationRequest(alice.user))
    token = link_token(emails_of(database, "email_verification")[0], "/verify-email")
    await verify_email(VerifyEmailCommand(token))

    user = await update_profile(renaming(alice, "Alice Pleasance Liddell"))

    assert user.is_verified is True
    assert await stored_user(database, alice.user.id) == user
