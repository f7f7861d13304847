"""The dummy hash that unknown addresses are verified against is made when the hasher is
built, so that the first unknown-address login of a process costs one verify, what a wrong
password costs, and not a hash and a verify. Counted, not timed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher


@pytest.fixture
def hasher() -> Iterator[Argon2Hasher]:
    hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1)
    yield hasher
    hasher.close()


def test_a_new_hasher_has_already_made_its_dummy_hash(hasher: Argon2Hasher) -> None:
    assert hasher.hashes_computed == 1


async def test_verifying_the_dummy_never_hashes_not_even_the_first_time(
    hasher: Argon2Hasher,
) -> None:
    await hasher.verify_dummy("SecurePassword123!")
    await hasher.verify_dummy("another guess")

    assert hasher.hashes_computed == 1


async def test_each_real_hash_is_counted(hasher: Argon2Hasher) -> None:
    hashed = await hasher.hash("SecurePassword123!")
    await hasher.verify(hashed, "SecurePassword123!")
    await hasher.hash("SecurePassword123!")

    assert hasher.hashes_computed == 3  # the dummy and two hashes; a verify is not one
