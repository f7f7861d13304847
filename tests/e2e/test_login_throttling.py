"""Login throttling over the real server, on PostgreSQL and on SQLite (tests/e2e/backends.py),
with the default limits: a locked account answers 429 with Retry-After, a client address
has a ceiling (counted by the socket peer, whatever X-Forwarded-For claims), and
successful requests are never throttled, not even a thousand registrations from one
client."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e import backends
from tests.e2e.api import PASSWORD, Api, Cli, Database, describe, expect, expect_error, unique_email
from tests.e2e.conftest import Backend, Server
from tests.e2e.faults import Rig
from tests.support.server import ServerProcess, start_server

server, database, cli = backends.server, backends.database, backends.cli  # each database's

WRONG = "WrongPassword123!"
LOCKOUT = 15 * 60


def retry_after(response: httpx.Response) -> int:
    """The 429 envelope's Retry-After, checked against the header and the default lockout."""
    error = expect_error(response, 429, "TOO_MANY_ATTEMPTS")
    seconds = int(response.headers["retry-after"])
    assert error["details"] == {"retry_after": seconds}, describe(response)
    assert LOCKOUT - 30 <= seconds <= LOCKOUT, describe(response)
    return seconds


@asynccontextmanager
async def api_from(server: Server, local_address: str) -> AsyncIterator[Api]:
    """The API reached from another loopback address: a client of its own to the server,
    so what it does counts against no other test's address."""
    transport = httpx.AsyncHTTPTransport(local_address=local_address)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=30, transport=transport, trust_env=False
    ) as client:
        yield Api(client)


async def test_five_wrong_passwords_lock_the_account_with_429_and_retry_after(
    api: Api, database: Database
) -> None:
    email = unique_email("locked")
    session = await api.signed_up(email)
    for _ in range(5):
        expect_error(await api.login(email, WRONG), 401, "INVALID_CREDENTIALS")

    refused = await api.login(email, PASSWORD)  # the right password, too late

    retry_after(refused)
    reasons = [
        event["data"]["reason"]
        for event in database.events_of(session["user"]["id"])
        if event["type"] == "login_failed"
    ]
    assert reasons == ["invalid_password"] * 5 + ["throttled"]


async def test_a_locked_unknown_address_answers_like_a_locked_account(api: Api) -> None:
    known = unique_email("locked-known")
    await api.signed_up(known)
    unknown = unique_email("locked-unknown")
    for email in (known, unknown):
        for _ in range(5):
            await api.login(email, WRONG)

    answers = [await api.login(email, WRONG) for email in (known, unknown)]

    seen = []
    for answer in answers:
        retry_after(answer)
        error = answer.json()["error"]
        del error["request_id"], error["details"]  # the seconds left may differ by one
        seen.append((sorted(answer.headers.keys()), error))
    assert seen[0] == seen[1]


async def test_the_address_ceiling_counts_the_socket_peer_not_a_forwarded_header(
    api: Api, server: Server
) -> None:
    run = uuid.uuid4().hex[:8]
    async with api_from(server, "127.0.0.77") as sprayer:
        # One guess at each of a hundred accounts, each claiming another client address.
        answers = await asyncio.gather(
            *(
                sprayer.login(
                    f"{run}-victim{n}@example.com",
                    WRONG,
                    headers={"X-Forwarded-For": f"192.0.2.{n}"},
                )
                for n in range(100)
            )
        )
        for answer in answers:
            expect_error(answer, 401, "INVALID_CREDENTIALS")

        retry_after(
            await sprayer.login(
                f"{run}-victim100@example.com", WRONG, headers={"X-Forwarded-For": "192.0.2.200"}
            )
        )

    # Another client is not affected.
    expect_error(await api.login(f"{run}-victim100@example.com", WRONG), 401, "INVALID_CREDENTIALS")


async def test_forgot_password_is_limited_per_client_address(api: Api, server: Server) -> None:
    address = unique_email("forgetful")
    async with api_from(server, "127.0.0.78") as flooder:
        answers = await asyncio.gather(*(flooder.forgot_password(address) for _ in range(100)))
        for answer in answers:
            expect(answer, 202)

        retry_after(await flooder.forgot_password(address))

    expect(await api.forgot_password(address), 202)


async def test_every_server_and_worker_on_one_database_shares_the_counts(
    api: Api, server: Server
) -> None:
    email = unique_email("shared")
    await api.signed_up(email)
    for _ in range(5):
        expect_error(await api.login(email, WRONG), 401, "INVALID_CREDENTIALS")

    # A second instance of the service, with two worker processes, on the same database.
    with start_server(server.env, server.workdir, workers=2, name="second-instance") as second:
        async with httpx.AsyncClient(base_url=second.base_url, timeout=30, trust_env=False) as c:
            answers = [await Api(c).login(email, PASSWORD) for _ in range(6)]

    for answer in answers:
        retry_after(answer)


async def test_the_cli_purges_expired_throttle_states(cli: Cli) -> None:
    result = await cli.run("db", "purge-throttle")

    assert result.returncode == 0, result.stderr
    assert "expired login throttle states" in result.stdout


@pytest.fixture
def crowd_server(tmp_path: Path, each_backend: Backend) -> Iterator[ServerProcess]:
    """A server of this test's own, with the default limits, on a scratch database of the
    backend. Its thousand welcome e-mails go to its log (the e-mail path is other tests'
    business): they delay no other test's, and its shutdown waits for no mail server."""
    with Rig(tmp_path, each_backend.name) as rig:
        url = rig.database("crowd")
        yield rig.server(rig.env(url, rig.smtp().port, email_backend="log"))


async def test_a_thousand_registrations_and_many_logins_from_one_client_all_succeed(
    crowd_server: ServerProcess,
) -> None:
    run = uuid.uuid4().hex[:8]
    emails = [f"{run}-crowd{n}@example.com" for n in range(1000)]
    gate = asyncio.Semaphore(32)

    async def bounded(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        async with gate:
            return await call()

    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(
        base_url=crowd_server.base_url, timeout=60, limits=limits, trust_env=False
    ) as client:
        crowd = Api(client)
        registered = await asyncio.gather(
            *(bounded(functools.partial(crowd.register, email)) for email in emails)
        )
        logged_in = await asyncio.gather(
            *(bounded(functools.partial(crowd.login, email)) for email in emails[:150])
        )

    failed = [describe(r) for r in [*registered, *logged_in] if r.status_code not in {200, 201}]
    assert failed == [], failed[:3]
    assert [r.status_code for r in registered] == [201] * 1000
    assert [r.status_code for r in logged_in] == [200] * 150
