"""The book's load tests, as correctness under concurrency: many requests at once against
one server and one database. How fast is the benchmarks' business, not an assertion here."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.e2e.api import Api, Database, describe, expect, expect_error


async def test_50_concurrent_registrations_all_succeed_with_distinct_ids(api: Api) -> None:
    run = uuid.uuid4().hex[:8]

    async def register(index: int) -> dict[str, Any]:
        response = await api.register(
            f"{run}-concurrent{index}@example.com",
            password="ConcurrentPassword123!",
            full_name=f"Concurrent User {index}",
        )
        return dict(expect(response, 201))

    sessions = await asyncio.gather(*(register(i) for i in range(50)))

    assert len({session["user"]["id"] for session in sessions}) == 50


async def test_100_concurrent_register_then_me_flows_all_succeed(api: Api) -> None:
    run = uuid.uuid4().hex[:8]

    async def register_and_read_profile(index: int) -> tuple[str, str]:
        session = await api.signed_up(
            f"{run}-pool{index}@example.com",
            password="PoolPassword123!",
            full_name=f"Pool User {index}",
        )
        profile = expect(await api.me(session["access_token"]), 200)
        return session["user"]["id"], profile["id"]

    flows = await asyncio.gather(*(register_and_read_profile(i) for i in range(100)))

    assert all(registered == seen for registered, seen in flows)
    assert len({registered for registered, _ in flows}) == 100


def _case_variants(address: str, count: int) -> list[str]:
    """``count`` spellings of one address: the first 0, 1, 2... letters upper-cased."""
    letters = [i for i, ch in enumerate(address) if ch.isalpha()]
    assert len(letters) >= count - 1
    return [
        "".join(ch.upper() if i in letters[:n] else ch for i, ch in enumerate(address))
        for n in range(count)
    ]


async def test_concurrent_registrations_of_one_address_create_exactly_one_account(
    api: Api, database: Database
) -> None:
    address = f"{uuid.uuid4().hex[:8]}-race-condition@example.com"
    variants = _case_variants(address, 20)

    responses = await asyncio.gather(*(api.register(email) for email in variants))

    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, [describe(r) for r in responses]
    for response in responses:
        if response.status_code != 201:
            expect_error(response, 409, "EMAIL_ALREADY_EXISTS")
    assert database.users_with_email(address) == 1
