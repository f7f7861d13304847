"""Create many accounts that look like real sign-ups, each with its own password: the data
of load tests that log in as many different people (``neodyme seed --realistic``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from neodyme_domain.model import Email, User, parse_full_name
from neodyme_domain.passwords import PasswordPolicy
from neodyme_domain.ports import Clock, PasswordHasher, PeopleSource, Person, UnitOfWork

BATCH_SIZE = 500


def _no_progress(done: int) -> None:
    """The default progress report: nobody is watching."""


@dataclass(frozen=True, slots=True)
class RealisticSeedCommand:
    count: int
    seed: int
    """The same seed invents the same people (addresses already taken are skipped)."""
    progress: Callable[[int], None] = _no_progress
    """Called with 1 after each password is hashed: the slow part, one hash per account."""


@dataclass(frozen=True, slots=True)
class SeededAccount:
    """A stored account and the password it logs in with (for a load test's credentials)."""

    user: User
    password: str


class SeedRealisticUsers:
    """Realism where ``SeedUsers`` buys speed: every account has its own invented name,
    address and password, so every account costs a hash (at production parameters, about
    ten seconds per thousand accounts on two cores).

    Hashes run ``hash_concurrency`` at a time, as many as the hasher has threads: more would
    only wait in its queue, and past its queue limit be refused; fewer would leave cores
    idle. A batch of 500 accounts is written in one transaction once all its hashes are
    done, so no transaction stays open while hashing. Every invented person is checked
    like a registration (address, name, the active password policy) before any hash is
    spent; an address already taken (an earlier run, a real user) is passed over for the
    next invented person, so exactly ``count`` accounts are created. Like ``SeedUsers``: no
    welcome e-mails, no events."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        clock: Clock,
        people: PeopleSource,
        hash_concurrency: int = 1,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._policy = policy
        self._clock = clock
        self._people = people
        self._hash_concurrency = max(1, hash_concurrency)

    async def __call__(self, cmd: RealisticSeedCommand) -> list[SeededAccount]:
        stream = self._people.people(cmd.seed)
        seeded: list[SeededAccount] = []
        for start in range(0, cmd.count, BATCH_SIZE):
            people = await self._free_people(stream, min(BATCH_SIZE, cmd.count - start))
            hashes = await self._hash_all([person.password for _, person in people], cmd.progress)
            accounts = [
                SeededAccount(
                    User.register(
                        email=email,
                        full_name=person.full_name,
                        hashed_password=hashed,
                        now=self._clock.now(),
                    ),
                    person.password,
                )
                for (email, person), hashed in zip(people, hashes, strict=True)
            ]
            async with self._uow as uow:
                for account in accounts:
                    await uow.users.add(account.user)
                await uow.commit()
            seeded.extend(accounts)
        return seeded

    async def _free_people(
        self, stream: Iterator[Person], wanted: int
    ) -> list[tuple[Email, Person]]:
        """The next ``wanted`` invented people whose address nobody has, each checked."""
        chosen: list[tuple[Email, Person]] = []
        async with self._uow as uow:  # read only: left without commit
            while len(chosen) < wanted:
                person = next(stream)
                email = Email.parse(person.email)
                parse_full_name(person.full_name)
                self._policy.check(person.password)
                if await uow.users.get_by_email(email) is None:
                    chosen.append((email, person))
        return chosen

    async def _hash_all(self, passwords: list[str], progress: Callable[[int], None]) -> list[str]:
        limit = asyncio.Semaphore(self._hash_concurrency)

        async def hash_one(password: str) -> str:
            async with limit:
                hashed = await self._hasher.hash(password)
            progress(1)
            return hashed

        async with asyncio.TaskGroup() as group:  # one failure cancels the rest
            tasks = [group.create_task(hash_one(password)) for password in passwords]
        return [task.result() for task in tasks]
