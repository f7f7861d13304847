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


async def test_a_session_ended_through_one_server_is_refused_through_the_other_at_once(
    two_servers: TwoServers,
) -> None:
    async with two_servers.clients() as c:
        email = address("sessions")
        await c.one.signed_up(email)
        phone = expect(await c.one.login(email, headers={"User-Agent": "Phone/1.0"}), 200)
        laptop = expect(await c.other.login(email, headers={"User-Agent": "Laptop/1.0"}), 200)
        expect(await c.other.me(phone["access_token"]), 200)  # known to the other server

        listed = expect(await c.one.sessions(laptop["access_token"]), 200)["items"]
        assert [(s["user_agent"], s["current"]) for s in listed][:2] == [
            ("Laptop/1.0", True),
            ("Phone/1.0", False),
        ]
        phone_id = listed[1]["id"]
        ended = await c.one.end_session(laptop["access_token"], phone_id)
        assert ended.status_code == 204, ended.text

        expect_error(await c.other.me(phone["access_token"]), 401, "INVALID_TOKEN")
        expect_error(await c.other.refresh(phone["refresh_token"]), 401, "INVALID_TOKEN")
        expect(await c.other.me(laptop["access_token"]), 200)
        again = await c.other.end_session(laptop["access_token"], phone_id)
        expect_error(again, 404, "SESSION_NOT_FOUND")


async def test_signing_out_everywhere_else_reaches_every_server(two_servers: TwoServers) -> None:
    async with two_servers.clients() as c:
        email = address("everywhere")
        first = await c.one.signed_up(email)
        second = expect(await c.other.login(email), 200)
        kept = expect(await c.one.login(email), 200)

        ended = await c.other.end_other_sessions(kept["access_token"])
        assert ended.status_code == 204, ended.text

        for gone in (first, second):
            expect_error(await c.one.me(gone["access_token"]), 401, "INVALID_TOKEN")
            expect_error(await c.other.refresh(gone["refresh_token"]), 401, "INVALID_TOKEN")
        expect(await c.other.me(kept["access_token"]), 200)
        [only] = expect(await c.other.sessions(kept["access_token"]), 200)["items"]
        assert only["current"] is True
        types = [
            e["type"] for e in expect(await c.one.my_events(kept["access_token"]), 200)["items"]
        ]
        assert types.count("session_ended") == 2
