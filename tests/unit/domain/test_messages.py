"""The e-mails the domain writes, word for word: what the person receiving them reads, and
the ``data`` the outbox stores with them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from neodyme_domain import Email, EmailMessage, User

LINK = "https://app.example/path?token=abc123"


@pytest.fixture
def alice() -> User:
    return User.register(
        email=Email.parse("Alice@Example.com"),
        full_name="Alice Liddell",
        hashed_password="$argon2id$...",
        now=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
    )


WITH_LINK = {"link": LINK}

EMAILS = {
    "welcome": (
        EmailMessage.welcome,
        "Welcome to neodyme",
        "Hello Alice Liddell,\n\n"
        "your neodyme account is ready. You can log in with this address.\n",
        {},
    ),
    "password_reset": (
        lambda user: EmailMessage.password_reset(user, LINK, timedelta(hours=1)),
        "Reset your neodyme password",
        "Hello Alice Liddell,\n\n"
        "someone (hopefully you) asked to reset the password of this account.\n"
        "Open this link within 60 minutes to choose a new one:\n\n"
        f"{LINK}\n\n"
        "If it was not you, ignore this e-mail: your password stays as it is.\n",
        WITH_LINK,
    ),
    "email_verification": (
        lambda user: EmailMessage.verification(user, LINK, timedelta(hours=24)),
        "Confirm your e-mail address for neodyme",
        "Hello Alice Liddell,\n\n"
        "open this link within 1440 minutes to confirm that this address is yours:\n\n"
        f"{LINK}\n",
        WITH_LINK,
    ),
}


@pytest.mark.parametrize("kind", EMAILS)
def test_each_email_word_for_word(alice: User, kind: str) -> None:
    write, subject, body, link = EMAILS[kind]

    assert write(alice) == EmailMessage(
        kind=kind,
        to="Alice@example.com",
        subject=subject,
        body=body,
        data={"user_name": "Alice Liddell", "user_id": str(alice.id), **link},
    )


@pytest.mark.parametrize("kind", [EmailMessage.password_reset, EmailMessage.verification])
def test_a_link_is_promised_for_the_whole_minutes_it_lives_never_more(
    alice: User, kind: Callable[[User, str, timedelta], EmailMessage]
) -> None:
    message = kind(alice, LINK, timedelta(minutes=30, seconds=59))

    assert "within 30 minutes" in message.body


def test_the_email_change_link_word_for_word_to_the_new_address(alice: User) -> None:
    message = EmailMessage.email_change(alice, "alice@new.example", LINK, timedelta(hours=24))

    assert message == EmailMessage(
        kind="email_change",
        to="alice@new.example",
        subject="Confirm your new e-mail address for neodyme",
        body="Hello Alice Liddell,\n\n"
        "someone (hopefully you) asked to use this address for their neodyme account.\n"
        "Open this link within 1440 minutes to confirm it; until then the account keeps its"
        " old address:\n\n"
        f"{LINK}\n\n"
        "If it was not you, ignore this e-mail: nothing changes.\n",
        data={"user_name": "Alice Liddell", "user_id": str(alice.id), "link": LINK},
    )
