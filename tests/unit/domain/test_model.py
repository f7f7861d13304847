"""The User entity and its value objects on their own: what an address is equal to, what a
user is made with, and who the console operator is."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from neodyme_domain import Email, User

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# --- e-mail --------------------------------------------------------------------------------


def test_different_addresses_are_different_emails() -> None:
    assert Email.parse("alice@example.com") != Email.parse("bob@example.com")
    assert Email.parse("alice@example.com") != Email.parse("alice@example.org")


def test_an_email_is_not_equal_to_its_text() -> None:
    assert Email.parse("alice@example.com") != "alice@example.com"


def test_different_addresses_spread_over_different_hashes() -> None:
    # Addresses key dictionaries and sets (the memory adapters' unique index): a hash
    # shared by every address would make each lookup a scan.
    emails = {Email.parse(f"user{n}@example.com") for n in range(20)}

    assert len({hash(email) for email in emails}) == 20


# --- user ----------------------------------------------------------------------------------


def test_a_registered_user_is_not_a_superuser_unless_asked() -> None:
    user = User.register(
        email=Email.parse("alice@example.com"),
        full_name="Alice",
        hashed_password="$argon2id$...",
        now=NOW,
    )

    assert user.is_superuser is False
    assert user.permissions == ("users:read:self", "users:write:self")


def test_the_operator_is_an_active_verified_superuser_with_the_nil_id_and_no_password() -> None:
    operator = User.operator(NOW)

    assert operator == User(
        id=uuid.UUID(int=0),
        email=Email("operator@localhost.invalid"),
        full_name="Console operator",
        hashed_password="!",  # no hash of any password: nothing logs in as the operator
        is_active=True,
        is_verified=True,
        is_superuser=True,
        created_at=NOW,
        updated_at=NOW,
    )
    # A reserved domain (RFC 2606: no mailbox is ever at .invalid), in the form parsing
    # gives; equality of addresses ignores case, so the text is compared too.
    assert operator.email.value == "operator@localhost.invalid"
    assert Email.parse(operator.email.value).value == operator.email.value
