"""Create many plausible accounts quickly, for demos and load tests."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from neodyme_domain.model import Email, User
from neodyme_domain.passwords import PasswordPolicy
from neodyme_domain.ports import Clock, PasswordHasher, UnitOfWork

BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class SeedCommand:
    count: int
    password: str
    first_names: Sequence[str]
    last_names: Sequence[str]


class SeedUsers:
    """Speed over realism where it is free: the password is hashed ONCE and that hash is
    stored for every seeded account (they all share ``cmd.password``), accounts are written
    in batches of 500 per transaction, and no welcome e-mail or event is produced. Seeded
    addresses carry a random run tag, so seeding twice never collides.

    The password policy still applies: seeded accounts log in like any other (a demo left
    running, a load-test database promoted by mistake), so a weak shared password would be
    a weak password on thousands of accounts. Checked before anything is written."""

    def __init__(
        self, *, uow: UnitOfWork, hasher: PasswordHasher, policy: PasswordPolicy, clock: Clock
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._policy = policy
        self._clock = clock

    async def __call__(self, cmd: SeedCommand) -> list[User]:
        self._policy.check(cmd.password)
        hashed = await self._hasher.hash(cmd.password)
        run = secrets.token_hex(3)
        created: list[User] = []
        for start in range(0, cmd.count, BATCH_SIZE):
            batch = [
                self._user(i, run, hashed, cmd)
                for i in range(start, min(start + BATCH_SIZE, cmd.count))
            ]
            async with self._uow as uow:
                for user in batch:
                    await uow.users.add(user)
                await uow.commit()
            created.extend(batch)
        return created

    def _user(self, i: int, run: str, hashed: str, cmd: SeedCommand) -> User:
        first = cmd.first_names[secrets.randbelow(len(cmd.first_names))].title()
        last = cmd.last_names[secrets.randbelow(len(cmd.last_names))].title()
        email = Email.parse(f"{first}.{last}.{run}{i}@example.com".lower())
        return User.register(
            email=email, full_name=f"{first} {last}", hashed_password=hashed, now=self._clock.now()
        )
