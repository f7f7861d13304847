"""SeedRealisticUsers: many accounts, each with its own invented person and password, every
one of which logs in; checked like registrations, hashed concurrently within the hasher's
threads, and never colliding with an address already taken."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

import pytest

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.faker_people import FakerPeople
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import BOOK_POLICY, ValidationFailed, WeakPassword
from neodyme_domain.model import Email
from neodyme_domain.ports import Person
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    RealisticSeedCommand,
    RegisterCommand,
    RegisterUser,
    SeedRealisticUsers,
)
from neodyme_domain.use_cases.seed_realistic_users import BATCH_SIZE
from tests.unit.domain.helpers import PASSWORD, counts

PEOPLE = FakerPeople(BOOK_POLICY)


class CountingHasher(Argon2Hasher):
    """The cheap real hasher, counting the hashes in flight at once."""

    def __init__(self, threads: int) -> None:
        super().__init__(CHEAP_PARAMETERS, max_concurrency=threads)
        self.in_flight = 0
        self.most_in_flight = 0

    async def hash(self, password: str) -> str:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await super().hash(password)
        finally:
            self.in_flight -= 1


class ListedPeople:
    """A PeopleSource that hands out the people it was given, whatever the seed."""

    def __init__(self, *people: Person) -> None:
        self._people = people

    def people(self, seed: int) -> Iterator[Person]:
        return iter(self._people)


def seeder(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    clock: ManualClock,
    people: FakerPeople | ListedPeople = PEOPLE,
    hash_concurrency: int = 2,
) -> SeedRealisticUsers:
    return SeedRealisticUsers(
        uow=InMemoryUnitOfWork(database),
        hasher=hasher,
        policy=BOOK_POLICY,
        clock=clock,
        people=people,
        hash_concurrency=hash_concurrency,
    )


async def test_every_seeded_account_logs_in_with_its_own_password(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    clock: ManualClock,
    authenticate_user: AuthenticateUser,
) -> None:
    seeded = await seeder(database, hasher, clock)(RealisticSeedCommand(25, seed=3))

    assert len(seeded) == 25
    assert len({account.password for account in seeded}) == 25
    assert len({account.user.hashed_password for account in seeded}) == 25
    assert counts(database).users == 25
    assert not database.outbox  # no welcome e-mails
    assert not database.events
    for account in seeded:
        session = await authenticate_user(
            AuthenticateCommand(account.user.email.value, account.password)
        )
        assert session.user.id == account.user.id


async def test_the_accounts_are_the_invented_people_of_the_seed(
    database: MemoryDatabase, hasher: Argon2Hasher, clock: ManualClock
) -> None:
    seeded = await seeder(database, hasher, clock)(RealisticSeedCommand(10, seed=11))

    invented = list(islice(PEOPLE.people(11), 10))
    assert [
        Person(account.user.full_name, account.user.email.value, account.password)
        for account in seeded
    ] == invented
    assert all(account.user.created_at == clock.now() for account in seeded)
    assert not any(account.user.is_superuser or account.user.is_verified for account in seeded)


async def test_more_than_a_batch_are_all_stored(
    database: MemoryDatabase, hasher: Argon2Hasher, clock: ManualClock
) -> None:
    seeded = await seeder(database, hasher, clock)(RealisticSeedCommand(BATCH_SIZE + 1, seed=5))

    assert len(seeded) == BATCH_SIZE + 1
    assert counts(database).users == BATCH_SIZE + 1
    assert len({account.user.email for account in seeded}) == BATCH_SIZE + 1


async def test_an_address_already_taken_is_passed_over(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    clock: ManualClock,
    register_user: RegisterUser,
) -> None:
    first, second, third = islice(PEOPLE.people(8), 3)
    taken = await register_user(RegisterCommand(second.email.upper(), "Earlier User", PASSWORD))

    seeded = await seeder(database, hasher, clock)(RealisticSeedCommand(3, seed=8))

    emails = [account.user.email for account in seeded]
    assert emails[:2] == [Email.parse(first.email), Email.parse(third.email)]
    assert taken.user.email not in emails
    assert counts(database).users == 4


async def test_without_a_concurrency_hashes_run_one_at_a_time(
    database: MemoryDatabase, clock: ManualClock
) -> None:
    hasher = CountingHasher(threads=4)
    seed = SeedRealisticUsers(
        uow=InMemoryUnitOfWork(database),
        hasher=hasher,
        policy=BOOK_POLICY,
        clock=clock,
        people=PEOPLE,
    )

    seeded = await seed(RealisticSeedCommand(count=6, seed=11))

    assert len(seeded) == 6
    assert hasher.most_in_flight == 1


@pytest.mark.parametrize(
    ("hash_concurrency", "most_in_flight"),
    [(3, 3), (0, 1)],  # as many as the hasher's threads; none asked for: one at a time
)
async def test_hashes_run_concurrently_up_to_the_concurrency_asked(
    database: MemoryDatabase, clock: ManualClock, hash_concurrency: int, most_in_flight: int
) -> None:
    hasher = CountingHasher(threads=3)
    seed = seeder(database, hasher, clock, hash_concurrency=hash_concurrency)
    try:
        await seed(RealisticSeedCommand(30, 1))
    finally:
        hasher.close()

    assert hasher.most_in_flight == most_in_flight
    assert counts(database).users == 30


async def test_progress_is_reported_once_per_hashed_account(
    database: MemoryDatabase, hasher: Argon2Hasher, clock: ManualClock
) -> None:
    reports: list[int] = []

    await seeder(database, hasher, clock)(RealisticSeedCommand(12, 2, progress=reports.append))

    assert reports == [1] * 12


@pytest.mark.parametrize(
    ("person", "refusal"),
    [
        (Person("Weak Password", "weak@example.com", "password"), WeakPassword),
        (Person("Bad Address", "not-an-address", PASSWORD), ValidationFailed),
        (Person("   ", "blank.name@example.com", PASSWORD), ValidationFailed),
    ],
)
async def test_an_invalid_invented_person_is_refused_before_any_hash(
    database: MemoryDatabase,
    hasher: Argon2Hasher,
    clock: ManualClock,
    person: Person,
    refusal: type[Exception],
) -> None:
    valid = Person("Valid Person", "valid@example.com", "Valid-Password-1")
    seed = seeder(database, hasher, clock, people=ListedPeople(valid, person))
    hashes_before = hasher.hashes_computed

    with pytest.raises(refusal):
        await seed(RealisticSeedCommand(2, seed=0))

    assert hasher.hashes_computed == hashes_before
    assert counts(database).users == 0
