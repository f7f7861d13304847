"""AuthenticateUser: a successful login, and failures that reveal nothing to the caller but
everything to the audit trail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher, Argon2Parameters
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import AccountInactive, InvalidCredentials, ValidationFailed
from neodyme_domain.messages import RequestOrigin
from neodyme_domain.use_cases import AuthenticateCommand, AuthenticateUser, Registered
from tests.unit.domain.helpers import (
    PASSWORD,
    counts,
    events_of,
    set_active,
    store_password_hash,
    stored_user,
)

ORIGIN = RequestOrigin(client_ip="203.0.113.9", user_agent="pytest")


class HasherWithInterleaving(Argon2Hasher):
    """The real hasher, with a concurrent transaction committed while it hashes: the
    deterministic form of "an admin acted during the login's slow hash"."""

    def __init__(self, meanwhile: Callable[[], Awaitable[None]]) -> None:
        super().__init__(CHEAP_PARAMETERS, max_concurrency=1)
        self._meanwhile = meanwhile

    async def hash(self, password: str) -> str:
        hashed = await super().hash(password)
        await self._meanwhile()
        return hashed


async def outdated_hash(password: str) -> str:
    old_hasher = Argon2Hasher(Argon2Parameters(memory_kib=128, time_cost=2, parallelism=1))
    try:
        return await old_hasher.hash(password)
    finally:
        old_hasher.close()


def login(email: str, password: str) -> AuthenticateCommand:
    return AuthenticateCommand(email=email, password=password, origin=ORIGIN)


async def failure(
    authenticate_user: AuthenticateUser, email: str, password: str
) -> InvalidCredentials | AccountInactive:
    with pytest.raises((InvalidCredentials, AccountInactive)) as raised:
        await authenticate_user(login(email, password))
    return raised.value


# --- success -------------------------------------------------------------------------------


async def test_login_returns_the_user_and_a_new_token_pair(
    authenticate_user: AuthenticateUser, alice: Registered, tokens: JwtTokenService
) -> None:
    result = await authenticate_user(login("alice@example.com", PASSWORD))

    assert result.user.id == alice.user.id
    pair = result.tokens
    assert pair.token_type == "bearer"
    assert pair.expires_in == 900
    assert pair.refresh_token != alice.tokens.refresh_token
    assert tokens.decode_access(pair.access_token).user_id == alice.user.id
    new_family = tokens.decode_refresh(pair.refresh_token).family_id
    assert new_family != tokens.decode_refresh(alice.tokens.refresh_token).family_id


async def test_login_records_a_login_event(
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await authenticate_user(login("alice@example.com", PASSWORD))

    [event] = events_of(database, "user_login")
    assert event.user_id == alice.user.id
    assert event.client_ip == "203.0.113.9"
    assert event.user_agent == "pytest"
    assert event.occurred_at == clock.now()
    assert event.data == {"email": "alice@example.com"}
    assert events_of(database, "login_failed") == []


async def test_login_remembers_the_new_refresh_token(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    before = counts(database)

    await authenticate_user(login("alice@example.com", PASSWORD))

    assert counts(database).refresh_tokens == before.refresh_tokens + 1


@pytest.mark.parametrize(
    "typed", ["ALICE@EXAMPLE.COM", "Alice@Example.com", "  alice@example.COM  "]
)
async def test_login_is_case_insensitive_on_the_email(
    authenticate_user: AuthenticateUser, alice: Registered, typed: str
) -> None:
    result = await authenticate_user(login(typed, PASSWORD))

    assert result.user.id == alice.user.id


# --- wrong credentials ---------------------------------------------------------------------


async def test_login_with_unknown_email_looks_like_wrong_password(
    authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    unknown = await failure(authenticate_user, "nobody@example.com", PASSWORD)
    wrong = await failure(authenticate_user, "alice@example.com", "WrongPassword123!")

    assert type(unknown) is InvalidCredentials
    assert type(wrong) is InvalidCredentials
    assert unknown.code == wrong.code == "INVALID_CREDENTIALS"
    assert unknown.message == wrong.message == "Invalid email or password"
    assert unknown.details == wrong.details == {}


async def test_wrong_password_names_the_user_and_reason_in_the_log_context(
    authenticate_user: AuthenticateUser, alice: Registered
) -> None:
    with pytest.raises(InvalidCredentials) as raised:
        await authenticate_user(login("alice@example.com", "WrongPassword123!"))

    assert raised.value.context["user_id"] == alice.user.id
    assert raised.value.context["reason"] == "invalid_password"


async def test_unknown_email_gives_its_reason_in_the_log_context(
    authenticate_user: AuthenticateUser,
) -> None:
    with pytest.raises(InvalidCredentials) as raised:
        await authenticate_user(login("nobody@example.com", PASSWORD))

    assert raised.value.context == {"email": "nobody@example.com", "reason": "unknown_email"}


async def test_failed_logins_are_recorded_with_their_reason(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    await failure(authenticate_user, "nobody@example.com", PASSWORD)
    await failure(authenticate_user, "alice@example.com", "WrongPassword123!")

    unknown, wrong = events_of(database, "login_failed")
    assert (unknown.data["reason"], unknown.user_id) == ("unknown_email", None)
    assert unknown.data["email"] == "nobody@example.com"
    assert (wrong.data["reason"], wrong.user_id) == ("invalid_password", alice.user.id)
    assert wrong.client_ip == "203.0.113.9"
    assert events_of(database, "user_login") == []


async def test_failed_login_issues_no_tokens(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    before = counts(database)

    await failure(authenticate_user, "alice@example.com", "WrongPassword123!")

    after = counts(database)
    assert after.refresh_tokens == before.refresh_tokens
    assert after.events == before.events + 1


@pytest.mark.parametrize("email", ["not an email", "", "alice@", "alice@@example.com"])
async def test_login_with_an_invalid_email_behaves_like_an_unknown_one(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase, email: str
) -> None:
    error = await failure(authenticate_user, email, PASSWORD)

    assert isinstance(error, InvalidCredentials)
    assert error.message == "Invalid email or password"
    assert error.context["reason"] == "unknown_email"
    [event] = events_of(database, "login_failed")
    assert event.data["reason"] == "unknown_email"


async def test_login_with_a_password_over_1024_characters_is_a_validation_error(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    before = counts(database)

    with pytest.raises(ValidationFailed) as raised:
        await authenticate_user(login("alice@example.com", "x" * 1025))

    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.field == "password"
    assert counts(database) == before


# --- inactive accounts ---------------------------------------------------------------------


async def test_inactive_account_with_correct_password_is_told_it_is_inactive(
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await set_active(database, alice.user.id, active=False)
    before = counts(database)
    clock.advance(timedelta(minutes=3))

    with pytest.raises(AccountInactive) as raised:
        await authenticate_user(login("alice@example.com", PASSWORD))

    assert raised.value.code == "ACCOUNT_INACTIVE"
    assert raised.value.context["user_id"] == alice.user.id
    [event] = events_of(database, "login_failed")
    assert event.data["reason"] == "inactive"
    assert event.user_id == alice.user.id
    assert event.occurred_at == clock.now()
    assert counts(database).refresh_tokens == before.refresh_tokens
    assert events_of(database, "user_login") == []


async def test_inactive_account_with_wrong_password_looks_like_any_wrong_password(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    # Revealing "inactive" to someone without the password would confirm the account exists.
    await set_active(database, alice.user.id, active=False)

    with pytest.raises(InvalidCredentials) as raised:
        await authenticate_user(login("alice@example.com", "WrongPassword123!"))

    assert raised.value.message == "Invalid email or password"
    assert raised.value.context["reason"] == "invalid_password"


async def test_reactivated_account_can_log_in_again(
    authenticate_user: AuthenticateUser, alice: Registered, database: MemoryDatabase
) -> None:
    await set_active(database, alice.user.id, active=False)
    await set_active(database, alice.user.id, active=True)

    result = await authenticate_user(login("alice@example.com", PASSWORD))

    assert result.user.id == alice.user.id


# --- rehash on login -----------------------------------------------------------------------


async def test_a_hash_with_outdated_parameters_is_replaced_on_successful_login(
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    clock: ManualClock,
) -> None:
    old_hash = await outdated_hash(PASSWORD)
    await store_password_hash(database, alice.user.id, old_hash, clock.now())
    assert hasher.needs_rehash(old_hash)
    clock.advance(timedelta(minutes=5))

    result = await authenticate_user(login("alice@example.com", PASSWORD))

    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert user.hashed_password != old_hash
    assert user.hashed_password.startswith("$argon2id$")
    assert not hasher.needs_rehash(user.hashed_password)
    assert await hasher.verify(user.hashed_password, PASSWORD)
    assert user.updated_at == clock.now()
    assert result.user.hashed_password == user.hashed_password


async def test_an_unreadable_hash_fails_the_login_and_is_left_alone(
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await store_password_hash(database, alice.user.id, "not-an-argon2-hash", clock.now())

    with pytest.raises(InvalidCredentials):
        await authenticate_user(login("alice@example.com", PASSWORD))

    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert user.hashed_password == "not-an-argon2-hash"


async def test_a_current_hash_is_kept_on_login(
    authenticate_user: AuthenticateUser,
    alice: Registered,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    before = await stored_user(database, alice.user.id)
    assert before is not None
    clock.advance(timedelta(minutes=5))

    await authenticate_user(login("alice@example.com", PASSWORD))

    after = await stored_user(database, alice.user.id)
    assert after is not None
    assert after.hashed_password == before.hashed_password
    assert after.updated_at == before.updated_at


async def test_a_rehash_does_not_undo_a_deactivation_committed_during_the_login(
    alice: Registered,
    database: MemoryDatabase,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    # Regression: the login wrote back the copy of the user it read before hashing.
    await store_password_hash(database, alice.user.id, await outdated_hash(PASSWORD), clock.now())
    hasher = HasherWithInterleaving(lambda: set_active(database, alice.user.id, active=False))
    authenticate = AuthenticateUser(
        uow=InMemoryUnitOfWork(database), hasher=hasher, tokens=tokens, clock=clock
    )
    try:
        await authenticate(login("alice@example.com", PASSWORD))
    finally:
        hasher.close()

    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert user.is_active is False
    assert hasher.needs_rehash(user.hashed_password) is False


async def test_a_rehash_does_not_undo_a_password_change_committed_during_the_login(
    alice: Registered,
    database: MemoryDatabase,
    tokens: JwtTokenService,
    clock: ManualClock,
) -> None:
    await store_password_hash(database, alice.user.id, await outdated_hash(PASSWORD), clock.now())
    new_hash = await outdated_hash("BrandNewPassword456?")
    hasher = HasherWithInterleaving(
        lambda: store_password_hash(database, alice.user.id, new_hash, clock.now())
    )
    authenticate = AuthenticateUser(
        uow=InMemoryUnitOfWork(database), hasher=hasher, tokens=tokens, clock=clock
    )
    try:
        await authenticate(login("alice@example.com", PASSWORD))
    finally:
        hasher.close()

    user = await stored_user(database, alice.user.id)
    assert user is not None
    assert user.hashed_password == new_hash
