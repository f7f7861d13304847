"""RegisterUser: what a successful registration leaves behind, and every way it refuses."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import MemoryDatabase
from neodyme_domain import EmailAlreadyExists, ValidationFailed, WeakPassword
from neodyme_domain.messages import RequestOrigin
from neodyme_domain.use_cases import RegisterCommand, Registered, RegisterUser
from tests.unit.domain.helpers import PASSWORD, counts, events_of, stored_user

LONGEST_EMAIL = "j" * 64 + "@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 57 + ".com"
"""254 characters, the most an address may have (RFC 5321), with a local part of 64."""


def command(
    email: str = "jane.doe@example.com",
    full_name: str = "Jane Doe",
    password: str = PASSWORD,
    client_ip: str | None = "192.168.1.1",
) -> RegisterCommand:
    return RegisterCommand(
        email=email,
        full_name=full_name,
        password=password,
        origin=RequestOrigin(client_ip=client_ip, user_agent="pytest"),
    )


# --- success -------------------------------------------------------------------------------


async def test_registration_returns_a_fresh_active_unverified_user(
    register_user: RegisterUser, clock: ManualClock
) -> None:
    registered = await register_user(command(email="  Jane.Doe@Example.COM  "))

    user = registered.user
    assert user.email.value == "Jane.Doe@example.com"  # trimmed, domain lower-cased
    assert user.full_name == "Jane Doe"
    assert isinstance(user.id, uuid.UUID)
    assert user.id.version == 4
    assert user.is_active is True
    assert user.is_verified is False
    assert user.is_superuser is False
    assert user.created_at == user.updated_at == clock.now()
    assert user.created_at.utcoffset() == timedelta(0)


async def test_registration_trims_the_full_name(register_user: RegisterUser) -> None:
    registered = await register_user(command(full_name="   Jane Doe \t"))

    assert registered.user.full_name == "Jane Doe"


async def test_registration_stores_the_user_it_returns(
    register_user: RegisterUser, database: MemoryDatabase
) -> None:
    registered = await register_user(command())

    assert await stored_user(database, registered.user.id) == registered.user


async def test_registration_returns_a_bearer_pair_for_the_new_user(
    register_user: RegisterUser, tokens: JwtTokenService
) -> None:
    registered = await register_user(command())

    pair = registered.tokens
    assert pair.token_type == "bearer"
    assert pair.expires_in == 900
    access = tokens.decode_access(pair.access_token)
    assert access.user_id == registered.user.id
    assert access.permissions == ("users:read:self", "users:write:self")
    assert tokens.decode_refresh(pair.refresh_token).user_id == registered.user.id


async def test_registration_queues_a_welcome_email_greeting_the_user_by_name(
    register_user: RegisterUser, database: MemoryDatabase
) -> None:
    registered = await register_user(command(email="Jane.Doe@Example.com"))

    [entry] = database.outbox
    assert entry.sent_at is None
    assert entry.attempts == 0
    welcome = entry.message
    assert welcome.kind == "welcome"
    assert welcome.to == "Jane.Doe@example.com"
    assert welcome.data["user_name"] == "Jane Doe"
    assert welcome.data["user_id"] == str(registered.user.id)
    assert welcome.body.startswith("Hello Jane Doe")


async def test_registration_records_one_registration_event(
    register_user: RegisterUser, database: MemoryDatabase, clock: ManualClock
) -> None:
    registered = await register_user(command(client_ip="10.0.0.7"))

    [event] = database.events
    assert event.type == "user_registration"
    assert event.user_id == registered.user.id
    assert event.data["user_email"] == "jane.doe@example.com"
    assert event.client_ip == "10.0.0.7"
    assert event.user_agent == "pytest"
    assert event.occurred_at == clock.now()


async def test_registration_stores_an_argon2id_hash_that_verifies(
    register_user: RegisterUser, database: MemoryDatabase, hasher: Argon2Hasher
) -> None:
    registered = await register_user(command(password=PASSWORD))

    user = await stored_user(database, registered.user.id)
    assert user is not None
    assert user.hashed_password.startswith("$argon2id$")
    assert PASSWORD not in user.hashed_password
    assert await hasher.verify(user.hashed_password, PASSWORD)
    assert not await hasher.verify(user.hashed_password, PASSWORD + "x")


async def test_registration_commits_user_outbox_event_and_refresh_token_together(
    register_user: RegisterUser, database: MemoryDatabase
) -> None:
    before = counts(database)

    await register_user(command())

    after = counts(database)
    assert (after.users, after.outbox, after.events, after.refresh_tokens) == (
        before.users + 1,
        before.outbox + 1,
        before.events + 1,
        before.refresh_tokens + 1,
    )


async def test_superuser_command_creates_a_superuser(
    register_user: RegisterUser, tokens: JwtTokenService
) -> None:
    registered = await register_user(
        RegisterCommand("root@example.com", "Root", PASSWORD, is_superuser=True)
    )

    assert registered.user.is_superuser is True
    claims = tokens.decode_access(registered.tokens.access_token)
    assert "users:read:any" in claims.permissions
    assert "users:write:any" in claims.permissions


@pytest.mark.parametrize("password", ["SecurePassword123!", "Password123!"])
async def test_book_examples_of_strong_passwords_are_accepted(
    register_user: RegisterUser, password: str
) -> None:
    registered = await register_user(command(password=password))

    assert registered.user.email.value == "jane.doe@example.com"


async def test_a_password_of_exactly_1024_characters_is_accepted(
    register_user: RegisterUser,
) -> None:
    password = ("Aa1!" * 256)[:1024]

    registered = await register_user(command(password=password))

    assert registered.user.is_active


async def test_a_full_name_of_exactly_200_characters_is_accepted(
    register_user: RegisterUser,
) -> None:
    registered = await register_user(command(full_name="J" * 200))

    assert len(registered.user.full_name) == 200


async def test_a_name_with_zero_width_joiners_is_accepted(register_user: RegisterUser) -> None:
    persian = "\u0645\u0647\u200c\u0646\u0627\u0632"  # a Persian name needs the ZWNJ

    registered = await register_user(command(full_name=persian))

    assert registered.user.full_name == persian


# --- duplicate e-mail ----------------------------------------------------------------------


async def test_duplicate_email_is_refused_with_address_and_origin_in_context(
    register_user: RegisterUser, alice: Registered, database: MemoryDatabase
) -> None:
    before = counts(database)

    with pytest.raises(EmailAlreadyExists) as raised:
        await register_user(command(email="alice@example.com", full_name="Another Alice"))

    error = raised.value
    assert error.code == "EMAIL_ALREADY_EXISTS"
    assert "alice@example.com" in error.message
    assert "already exists" in error.message
    assert error.context["email"] == "alice@example.com"
    assert error.context["attempted_registration_ip"] == "192.168.1.1"
    assert counts(database) == before


@pytest.mark.parametrize(
    "variant", ["ALICE@EXAMPLE.COM", "Alice@example.com", "  alice@Example.Com  "]
)
async def test_duplicate_email_in_another_case_is_refused_and_writes_nothing(
    register_user: RegisterUser, alice: Registered, database: MemoryDatabase, variant: str
) -> None:
    before = counts(database)

    with pytest.raises(EmailAlreadyExists) as raised:
        await register_user(command(email=variant))

    assert "already exists" in raised.value.message
    assert raised.value.context["email"].lower() == "alice@example.com"
    assert counts(database) == before
    assert [e.user_id for e in events_of(database, "user_registration")] == [alice.user.id]


# --- password policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "unmet"),
    [
        ("123", ["min_length", "lowercase", "uppercase", "special"]),
        ("password", ["uppercase", "digit", "special"]),
        ("PASSWORD", ["lowercase", "digit", "special"]),
        ("Password", ["digit", "special"]),
        ("Password123", ["special"]),
    ],
)
async def test_book_examples_of_weak_passwords_name_exactly_the_unmet_rules(
    register_user: RegisterUser, database: MemoryDatabase, password: str, unmet: list[str]
) -> None:
    before = counts(database)

    with pytest.raises(WeakPassword) as raised:
        await register_user(command(password=password))

    error = raised.value
    assert error.code == "WEAK_PASSWORD"
    assert "requirements not met" in error.message
    assert error.details["unmet"] == unmet
    assert counts(database) == before


async def test_password_over_1024_characters_is_a_validation_error_before_hashing(
    register_user: RegisterUser, database: MemoryDatabase
) -> None:
    before = counts(database)
    # Meets every rule of the policy: only the length bound can refuse it.
    too_long = ("Aa1!" * 300)[:1025]

    with pytest.raises(ValidationFailed) as raised:
        await register_user(command(password=too_long))

    error = raised.value
    assert error.code == "VALIDATION_ERROR"
    assert error.details["fields"] == [
        {"field": "password", "message": "must be at most 1024 characters"}
    ]
    assert counts(database) == before


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "plainaddress",
        "@example.com",
        "jane@",
        "jane@localhost",
        "jane..doe@example.com",
        ".jane@example.com",
        "jane@exa mple.com",
        "jane@-example.com",
        "jane@example.123",
        "jane\x00@example.com",
        "ja\nne@example.com",
        "jane\n@example.com",  # a pattern's $ matches before a final line feed: not here
        "jane@example\n.com",
        "jane@doe@example.com",
        "a" * 65 + "@example.com",
        "jane@" + "a" * 250 + ".com",
        LONGEST_EMAIL.replace(".com", "c.com"),  # 255 characters, each part valid alone
    ],
)
async def test_invalid_email_is_a_validation_error_naming_the_field(
    register_user: RegisterUser, database: MemoryDatabase, email: str
) -> None:
    before = counts(database)

    with pytest.raises(ValidationFailed) as raised:
        await register_user(command(email=email))

    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.field == "email"
    assert raised.value.message == "email: is not a valid e-mail address"
    assert raised.value.details["fields"] == [
        {"field": "email", "message": "is not a valid e-mail address"}
    ]
    assert counts(database) == before


async def test_the_longest_valid_address_registers(register_user: RegisterUser) -> None:
    assert len(LONGEST_EMAIL) == 254

    registered = await register_user(command(email=LONGEST_EMAIL))

    assert registered.user.email.value == LONGEST_EMAIL


@pytest.mark.parametrize(
    ("full_name", "problem"),
    [
        ("", "must not be empty"),
        ("   \t ", "must not be empty"),
        ("J" * 201, "must be at most 200 characters"),
        ("Jane\x00Doe", "must not contain control characters"),
        ("Jane\r\nBcc: victim@example.com", "must not contain control characters"),
        ("Jane\u2028Doe", "must not contain control characters"),  # line separator
        ("Jane\u2029Doe", "must not contain control characters"),  # paragraph separator
        ("Jane\u200bDoe", "must not contain control characters"),
        ("Jane\u202eeoD", "must not contain control characters"),  # bidi override
    ],
)
async def test_invalid_full_name_is_a_validation_error_naming_the_field(
    register_user: RegisterUser, database: MemoryDatabase, full_name: str, problem: str
) -> None:
    before = counts(database)

    with pytest.raises(ValidationFailed) as raised:
        await register_user(command(full_name=full_name))

    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.field == "full_name"
    assert raised.value.details["fields"] == [{"field": "full_name", "message": problem}]
    assert counts(database) == before


async def test_a_password_without_a_utf8_form_is_refused_before_hashing(
    register_user: RegisterUser, database: MemoryDatabase
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await register_user(command(password="Aa1!\ud800xyz"))

    assert raised.value.details["fields"] == [
        {"field": "password", "message": "must be valid Unicode text"}
    ]
    assert counts(database).users == 0
