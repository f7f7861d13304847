"""Registration race: 20 parallel registrations of one address (in 20 letter-case spellings)
create exactly one account, answering 201 once and 409 EMAIL_ALREADY_EXISTS for the rest,
on both storage backends.

PostgreSQL is the session server (tests/e2e/test_concurrency.py races it too, the same
way); SQLite gets a server process of its own here, on a file in a temporary directory,
migrated by `neodyme db upgrade` first, with the launcher of tests/support/server.py. It
runs two worker processes, so the racers contend across processes (for SQLite's one write
lock) as well as across the coroutines of one process.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.e2e.api import Api, Database, describe, expect_error
from tests.e2e.secret_log import SecretLog
from tests.support.server import ServerProcess, migrate, server_env
from tests.support.smtp import SmtpSink

RACERS = 20


def _case_variants(address: str, count: int) -> list[str]:
    """``count`` spellings of one address: the address itself, then each with one more
    letter upper-cased, alternating from the start of the local part and from the end of
    the domain, so both halves vary."""
    letters = [i for i, ch in enumerate(address) if ch.isalpha()]
    order = [letters[i // 2] if i % 2 == 0 else letters[-1 - i // 2] for i in range(len(letters))]
    assert len(set(order[: count - 1])) == count - 1, address
    return [
        "".join(ch.upper() if i in order[:n] else ch for i, ch in enumerate(address))
        for n in range(count)
    ]


def _smtp_login(sink: SmtpSink) -> dict[str, str]:
    """The session sink's credentials (if it asks for any), as settings overrides."""
    if sink.auth is None:
        return {}
    return {"smtp_username": sink.auth[0], "smtp_password": sink.auth[1]}


@pytest.fixture(scope="module")
def sqlite_server(
    tmp_path_factory: pytest.TempPathFactory, smtp_sink: SmtpSink, secret_log: SecretLog
) -> Iterator[tuple[ServerProcess, Path]]:
    workdir = tmp_path_factory.mktemp("neodyme-sqlite")
    db_file = workdir / "neodyme.db"
    env = server_env(
        f"sqlite+aiosqlite:///{db_file}", smtp_sink.host, smtp_sink.port, **_smtp_login(smtp_sink)
    )
    migrate(env, workdir)
    server = ServerProcess(env, workdir, name="sqlite-server", workers=2).start()
    secret_log.watch(server.log_path, env)  # its log is audited for secrets too
    try:
        yield server, db_file
    finally:
        server.stop()


async def _race(client: httpx.AsyncClient, address: str) -> list[httpx.Response]:
    async def register(email: str) -> httpx.Response:
        return await client.post(
            "/api/v1/auth/register",
            json={"email": email, "full_name": "Racer", "password": "RacePassword123!"},
        )

    return list(await asyncio.gather(*(register(e) for e in _case_variants(address, RACERS))))


def _one_created_rest_conflict(responses: list[httpx.Response]) -> None:
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, [describe(r) for r in responses]
    for response in responses:
        if response.status_code != 201:
            expect_error(response, 409, "EMAIL_ALREADY_EXISTS")


def _address() -> str:
    return f"{uuid.uuid4().hex[:8]}-registration-race@example.com"


async def test_registration_race_on_postgresql(api: Api, database: Database) -> None:
    address = _address()

    responses = await _race(api.client, address)

    _one_created_rest_conflict(responses)
    assert database.users_with_email(address) == 1


async def test_registration_race_on_sqlite(
    sqlite_server: tuple[ServerProcess, Path], secret_log: SecretLog
) -> None:
    server, db_file = sqlite_server
    address = _address()

    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=30, trust_env=False, event_hooks=secret_log.hooks()
    ) as client:
        responses = await _race(client, address)

    try:
        _one_created_rest_conflict(responses)
    except AssertionError:
        print(server.log_tail())  # shown with the failure
        raise
    with closing(sqlite3.connect(db_file)) as connection:
        (rows,) = connection.execute(
            "SELECT count(*) FROM users WHERE lower(email) = lower(?)", (address,)
        ).fetchone()
    assert rows == 1
