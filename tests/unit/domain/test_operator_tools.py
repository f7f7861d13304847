"""Use cases behind the operator's command line: finding an account, seeding many."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import BOOK_POLICY
from neodyme_domain.errors import Forbidden, UserNotFound, WeakPassword
from neodyme_domain.model import User
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    FindUserByEmail,
    FindUserQuery,
    Registered,
    SeedCommand,
    SeedUsers,
    SetUserActive,
    SetUserActiveCommand,
)


async def test_the_operator_finds_an_account_by_address_in_any_case(
    database: MemoryDatabase, clock: ManualClock, alice: Registered
) -> None:
    find = FindUserByEmail(uow=InMemoryUnitOfWork(database))

    found = await find(FindUserQuery(User.operator(clock.now()), "ALICE@example.com"))

    assert found.id == alice.user.id


async def test_an_account_the_operator_deactivates_is_recorded_as_done_by_the_nil_id(
    set_user_active: SetUserActive,
    database: MemoryDatabase,
    clock: ManualClock,
    alice: Registered,
) -> None:
    # The operator is no stored account: the audit trail names it by an id none can have.
    await set_user_active(SetUserActiveCommand(User.operator(clock.now()), alice.user.id, False))

    [event] = [e for e in database.events if e.type == "user_deactivated"]
    assert event.user_id == alice.user.id
    assert event.data == {"by": "00000000-0000-0000-0000-000000000000"}


async def test_finding_needs_a_superuser_and_an_existing_address(
    database: MemoryDatabase, alice: Registered
) -> None:
    find = FindUserByEmail(uow=InMemoryUnitOfWork(database))

    with pytest.raises(Forbidden) as forbidden:
        await find(FindUserQuery(alice.user, "alice@example.com"))
    with pytest.raises(UserNotFound) as missing:
        await find(FindUserQuery(User.operator(alice.user.created_at), "NOBODY@example.com"))

    assert forbidden.value.context == {"requester": alice.user.id, "action": "find user"}
    assert missing.value.message == "No user with email NOBODY@example.com"


async def test_seeded_users_are_distinct_and_share_one_password(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    clock: ManualClock,
    authenticate_user: AuthenticateUser,
) -> None:
    seed = SeedUsers(
        uow=InMemoryUnitOfWork(database), hasher=hasher, policy=BOOK_POLICY, clock=clock
    )

    users = await seed(SeedCommand(1203, "Seeded-Password-1!", ["ada", "alan"], ["lovelace"]))
    again = await seed(SeedCommand(3, "Seeded-Password-1!", ["ada"], ["lovelace"]))

    assert len(database.state.users) == 1206
    assert len({u.email for u in users + again}) == 1206
    assert {u.hashed_password for u in users} == {users[0].hashed_password}
    assert users[0].full_name in {"Ada Lovelace", "Alan Lovelace"}
    assert not database.outbox
    assert not database.events
    session = await authenticate_user(
        AuthenticateCommand(users[-1].email.value, "Seeded-Password-1!")
    )
    assert session.user.id == users[-1].id


async def test_seeded_addresses_are_lower_case_numbered_and_tagged_by_their_run(
    database: MemoryDatabase, hasher: Argon2Hasher, clock: ManualClock
) -> None:
    seed = SeedUsers(
        uow=InMemoryUnitOfWork(database), hasher=hasher, policy=BOOK_POLICY, clock=clock
    )
    address = re.compile(r"ada\.lovelace\.(?P<run>[0-9a-f]{6})(?P<n>\d+)@example\.com")

    first = await seed(SeedCommand(3, "Seeded-Password-1!", ["ADA"], ["LoveLace"]))
    clock.advance(timedelta(minutes=1))
    second = await seed(SeedCommand(2, "Seeded-Password-1!", ["ada"], ["lovelace"]))

    runs = []
    for users in (first, second):
        matches = [address.fullmatch(user.email.value) for user in users]
        assert all(matches), [user.email.value for user in users]
        runs.append({m["run"] for m in matches if m})
        assert [m["n"] for m in matches if m] == [str(n) for n in range(len(users))]
    assert len(runs[0]) == len(runs[1]) == 1
    assert {user.full_name for user in first + second} == {"Ada Lovelace"}
    assert {user.created_at for user in first} == {clock.now() - timedelta(minutes=1)}
    assert {user.created_at for user in second} == {clock.now()}


async def test_seeding_with_a_weak_password_is_refused_before_anything_is_written(
    database: MemoryDatabase, hasher: Argon2Hasher, clock: ManualClock
) -> None:
    seed = SeedUsers(
        uow=InMemoryUnitOfWork(database), hasher=hasher, policy=BOOK_POLICY, clock=clock
    )
    hashes_before = hasher.hashes_computed

    with pytest.raises(WeakPassword):
        await seed(SeedCommand(10, "password", ["ada"], ["lovelace"]))

    assert not database.state.users
    assert hasher.hashes_computed == hashes_before  # refused before the (slow) hash
