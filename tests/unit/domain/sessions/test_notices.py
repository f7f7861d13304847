"""Security notices: the e-mail that tells the owner of an account what changed on it."""

from __future__ import annotations

from datetime import UTC, datetime

from neodyme_adapters.memory import MemoryDatabase
from neodyme_domain import EmailMessage, RequestOrigin
from neodyme_domain.model import Email, User
from neodyme_domain.notices import security_notice
from neodyme_domain.use_cases import (
    ChangePassword,
    ChangePasswordCommand,
    Registered,
    RequestPasswordReset,
    ResetPassword,
    ResetPasswordCommand,
)
from tests.unit.domain.helpers import NEW_PASSWORD, PASSWORD
from tests.unit.domain.test_password_reset import reset_token

ORIGIN = RequestOrigin(client_ip="192.0.2.1", user_agent="Browser/3.0")
AT = datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)


def sent(database: MemoryDatabase, kind: str) -> list[EmailMessage]:
    return [e.message for e in database.outbox if e.message.kind == kind]


def test_a_notice_says_what_when_from_where_and_what_to_do() -> None:
    user = User.register(
        email=Email.parse("ann@example.com"), full_name="Ann Example", hashed_password="h", now=AT
    )

    notice = security_notice("recovery_code_used", user, AT, ORIGIN, remaining="9")

    assert notice.to == "ann@example.com"
    assert notice.subject == "A recovery code was used to sign in"
    assert "9 unused codes remain" in notice.body
    assert "When: 2031-02-03 04:05 UTC" in notice.body
    assert "Device: Browser/3.0, from 192.0.2.1" in notice.body
    assert "If it was not you, reset your password now" in notice.body
    assert notice.data == {
        "user_name": "Ann Example",
        "user_id": str(user.id),
        "occurred_at": "2031-02-03T04:05:06+00:00",
        "user_agent": "Browser/3.0",
        "client_ip": "192.0.2.1",
        "remaining": "9",
    }


def test_a_notice_can_go_to_another_address_and_names_an_unknown_device() -> None:
    user = User.register(
        email=Email.parse("ann@example.com"), full_name="Ann Example", hashed_password="h", now=AT
    )

    notice = security_notice(
        "email_change_requested", user, AT, RequestOrigin(), new_email="new@example.com"
    )

    assert notice.to == "ann@example.com"
    assert "change the address of your account to new@example.com" in notice.body
    assert "Device: an unknown device, from an unknown address" in notice.body
    assert (notice.data["user_agent"], notice.data["client_ip"]) == ("", "")
    other = security_notice("mfa_disabled", user, AT, ORIGIN, to="old@example.com", by="you")
    assert other.to == "old@example.com"


async def test_a_password_change_is_told_to_the_owner(
    change_password: ChangePassword, database: MemoryDatabase, alice: Registered
) -> None:
    await change_password(ChangePasswordCommand(alice.user, PASSWORD, NEW_PASSWORD, ORIGIN))

    [notice] = sent(database, "password_changed")
    assert notice.to == "alice@example.com"
    assert "Browser/3.0" in notice.body
    assert NEW_PASSWORD not in notice.body


async def test_a_password_reset_is_told_to_the_owner(
    request_password_reset: RequestPasswordReset,
    reset_password: ResetPassword,
    database: MemoryDatabase,
    alice: Registered,
) -> None:
    token = await reset_token(request_password_reset, database, "alice@example.com")

    await reset_password(ResetPasswordCommand(token, NEW_PASSWORD, ORIGIN))

    [notice] = sent(database, "password_changed")
    assert notice.to == "alice@example.com"
