"""Many processes, one truth: two `neodyme serve` processes on one PostgreSQL database
behave as one service. Whatever one of them learns (a rotated refresh token, a failed
login, a deactivation) the other acts on at once: no state that matters lives in a
process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from tests.e2e.api import PASSWORD, Api, Cli, expect, expect_error
from tests.e2e.faults import Rig, address, api_of
from tests.support.server import ServerProcess

WRONG = "WrongPassword123!"


@dataclass(frozen=True, slots=True)
class Clients:
    one: Api
    other: Api


@dataclass(frozen=True, slots=True)
class TwoServers:
    rig: Rig
    one: ServerProcess
    other: ServerProcess
    cli: Cli

    @asynccontextmanager
    async def clients(self) -> AsyncIterator[Clients]:
        """A client of each server; a failure in the block reports both servers' logs."""
        with self.rig.explained():
            async with api_of(self.one) as one, api_of(self.other) as other:
                yield Clients(one, other)


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoServers]:
    workdir = tmp_path_factory.mktemp("two-servers")
    with Rig(workdir) as rig:
        sink = rig.smtp()
        env = rig.env(rig.database("twoservers"), sink.port)  # one secret key for both
        yield TwoServers(rig, rig.server(env), rig.server(env), Cli(env=env, cwd=workdir))


async def test_a_refresh_token_rotated_through_one_server_is_reused_through_the_other(
    two_servers: TwoServers,
) -> None:
    async with two_servers.clients() as c:
        session = await c.one.signed_up(address("rotate"))
        old = session["refresh_token"]
        rotated = expect(await c.one.refresh(old), 200)

        expect_error(await c.other.refresh(old), 401, "TOKEN_REUSED")
        # The reuse revoked the family, on both servers: the newer token is dead as well.
        expect_error(await c.one.refresh(rotated["refresh_token"]), 401, "INVALID_TOKEN")
        expect_error(await c.other.refresh(rotated["refresh_token"]), 401, "INVALID_TOKEN")


async def test_deactivation_through_one_server_is_refused_through_the_other_at_once(
    two_servers: TwoServers,
) -> None:
    async with two_servers.clients() as c:
        admin = address("admin")
        created = await two_servers.cli.create_user(admin, "Ada Admin", PASSWORD, superuser=True)
        assert created.returncode == 0, created.stderr
        admin_token = expect(await c.one.login(admin), 200)["access_token"]
        email = address("deactivated")
        victim = await c.other.signed_up(email)
        expect(await c.other.me(victim["access_token"]), 200)  # known to the other server

        expect(await c.one.set_active(victim["user"]["id"], admin_token, False), 200)

        expect_error(await c.other.me(victim["access_token"]), 401, "INVALID_TOKEN")
        expect_error(await c.other.refresh(victim["refresh_token"]), 401, "INVALID_TOKEN")
        expect_error(await c.other.login(email), 403, "ACCOUNT_INACTIVE")


async def test_failed_logins_are_counted_across_both_servers(two_servers: TwoServers) -> None:
    async with two_servers.clients() as c:
        email = address("throttled")
        await c.one.signed_up(email)
        for attempt in range(5):  # three through one server, two through the other
            api = c.one if attempt % 2 == 0 else c.other
            expect_error(await api.login(email, WRONG), 401, "INVALID_CREDENTIALS")

        for api in (c.one, c.other):  # the sixth attempt wherever it lands; the right password too
            for password in (WRONG, PASSWORD):
                refused = await api.login(email, password)
                error = expect_error(refused, 429, "TOO_MANY_ATTEMPTS")
                seconds = int(refused.headers["retry-after"])
                assert seconds > 0
                assert error["details"] == {"retry_after": seconds}
