"""Database outage: the server loses its database, and gets it back.

During the outage the process stays alive (/health 200) and answers every API call with
503 SERVICE_UNAVAILABLE and Retry-After, even with more concurrent calls than its pool has
connections. Once the database is back, everything works without a restart, and nothing
acknowledged before the outage is missing, nothing refused during it was written.

Nothing is timed here: an answer at all is what counts, and a request that hung (a pool
waiting for TCP to give up takes many minutes) fails at the client's deadline (api_of:
30 s); how fast the 503s come is the benchmarks' business.

What an outage is depends on the database:

- PostgreSQL, through a TCP proxy that the test cuts, in two ways: the connections are
  closed (the database crashed or restarted: the client learns it at once), or the
  network goes silent (a partition: no answer, no error; without a deadline on getting a
  connection, the pool's pre-ping of a pooled connection waits for TCP to give up). The
  server also says why it is not ready: /health/ready 503 naming the database.
- SQLite, a file on the server's own disk, has no network to lose. Its outage is the
  database being locked by another process (a backup, a maintenance script, an
  operator's ``sqlite3`` shell inside a transaction): every unit of work that writes
  takes the write lock first, waits for it ``busy_timeout``, and gets SQLITE_BUSY, which
  is "unavailable, retry" (neodyme_adapters/sqlalchemy/errors.py), not a bug. The file
  stays readable under a write lock (WAL), so what only reads (GET /auth/me) is still
  served, and readiness is not asserted: /health/ready may truthfully answer 200.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.api import Api, expect, expect_error, recipient
from tests.e2e.faults import Rig, address, api_of, eventually
from tests.support.tcp_proxy import TcpProxy

OUTBOX = "SELECT recipient, attempts, next_attempt_at, sent_at, last_error FROM email_outbox"
PAUSED = "outbox delivery paused: the database is unavailable"
RESUMED = "outbox delivery resumed"


@dataclass
class ProxyCut:
    """PostgreSQL behind a TCP proxy that closes every connection, or goes silent."""

    silently: bool
    backend = "postgres"
    readiness_says_so = True
    reads_continue = False
    proxy: TcpProxy | None = field(default=None, init=False)

    def database(self, rig: Rig) -> tuple[str, str]:
        url = rig.database("outage")
        self.proxy, through_proxy = rig.proxy(url)
        return through_proxy, url

    @property
    def dispatcher_notices(self) -> bool:
        # Silently, the dispatcher may be waiting in a statement, not failing.
        return not self.silently

    def start(self) -> None:
        assert self.proxy is not None
        self.proxy.cut(silently=self.silently)

    def end(self) -> None:
        assert self.proxy is not None
        self.proxy.restore()


@dataclass
class SqliteLocked:
    """A SQLite file whose write lock another process holds (``BEGIN IMMEDIATE``)."""

    backend = "sqlite"
    readiness_says_so = False
    reads_continue = True
    dispatcher_notices = True
    holder: sqlite3.Connection | None = field(default=None, init=False)
    path: str = field(default="", init=False)

    def database(self, rig: Rig) -> tuple[str, str]:
        url = rig.database("locked")
        self.path = str(make_url(url).database)
        return url, url

    def start(self) -> None:
        # Waits (up to its timeout) for a write of the server's in progress to finish.
        self.holder = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.holder.execute("BEGIN IMMEDIATE")

    def end(self) -> None:
        assert self.holder is not None
        self.holder.execute("ROLLBACK")
        self.holder.close()


OUTAGES = {
    "postgres-connections-closed": lambda: ProxyCut(silently=False),
    "postgres-network-silent": lambda: ProxyCut(silently=True),
    "sqlite-locked-by-another-process": SqliteLocked,
}


@pytest.mark.parametrize("kind", list(OUTAGES))
async def test_a_database_outage_is_answered_with_503_and_recovers_without_restart(
    tmp_path: Path, kind: str
) -> None:
    outage = OUTAGES[kind]()
    with Rig(tmp_path, outage.backend) as rig:
        served_url, url = outage.database(rig)
        sink = rig.smtp()
        # A small pool: the outage gets more concurrent calls than there are connections.
        # A short lease: an e-mail whose batch the cut interrupted (claimed, not recorded
        # as sent) is taken again two seconds later rather than a minute.
        env = rig.env(served_url, sink.port, db_pool_size="2", outbox_lease_seconds="2")
        server = rig.server(env)
        pid = server.pid
        reader = rig.reader(url)
        async with api_of(server) as api:
            acknowledged = [address("before") for _ in range(4)]
            sessions = [await api.signed_up(email) for email in acknowledged]
            access, refresh = sessions[0]["access_token"], sessions[0]["refresh_token"]

            outage.start()

            live = await api.client.get("/health")
            assert expect(live, 200) == {"status": "ok"}

            refused = [address("during") for _ in range(4)]
            writes = [
                *(api.register(email) for email in refused),
                *(api.login(acknowledged[1]) for _ in range(4)),  # records the login
                *(api.refresh(refresh) for _ in range(4)),
            ]
            # The reads first, while the pool has connections to spare: only the database
            # decides their answer. Then more writes at once than the pool has connections.
            reads = await asyncio.gather(*(api.me(access) for _ in range(4)))
            ready, *answers = await asyncio.gather(api.client.get("/health/ready"), *writes)
            if outage.readiness_says_so:
                error = expect_error(ready, 503, "SERVICE_UNAVAILABLE")
                assert error["details"] == {"checks": {"database": "unreachable"}}
            for response in [*answers, *([] if outage.reads_continue else reads)]:
                expect_error(response, 503, "SERVICE_UNAVAILABLE")
                assert response.headers["retry-after"] == "1", response.headers
            if outage.reads_continue:
                for response in reads:
                    assert expect(response, 200)["id"] == sessions[0]["user"]["id"]

            assert (await api.client.get("/health")).status_code == 200
            if outage.dispatcher_notices:
                await eventually(
                    lambda: PAUSED in server.log_tail(lines=1000),
                    within=15,
                    what="the e-mail dispatcher noticing the outage",
                )

            outage.end()
            await eventually(lambda: is_ready(api), within=15, what="/health/ready 200 again")
            assert server.pid == pid, "recovery must not need a restart"
            assert server.running()

            # Nothing acknowledged before the cut is missing; nothing refused was written.
            stored = reader.emails()
            assert set(acknowledged) <= stored
            assert not set(refused) & stored
            for email in acknowledged:
                expect(await api.login(email), 200)
            expect(await api.me(access), 200)
            # The refresh token was not rotated by the refused refreshes: it still works.
            expect(await api.refresh(refresh), 200)

            # New work goes through, e-mail included: the dispatcher outlived the outage.
            late = address("after")
            await api.signed_up(late)
            for email in [*acknowledged, late]:
                try:
                    await sink.wait_for(lambda m, email=email: recipient(m) == email)
                except AssertionError as missing:
                    missing.add_note(f"outbox: {reader.rows(OUTBOX)}")
                    raise

            if outage.dispatcher_notices:
                # Logged when the dispatcher's first successful drain ends, which may be
                # the one that sent the e-mails above: a round after the last one arrived.
                await eventually(
                    lambda: RESUMED in server.log_tail(lines=10_000),
                    within=15,
                    what="the e-mail dispatcher noticing the database is back",
                )

        log = server.log_tail(lines=10_000)
        assert "Traceback" not in log, "an outage is logged in a line or two, not tracebacks"
        if outage.dispatcher_notices:
            assert log.count(PAUSED) == 1, "once when the outage starts, not at every poll"
            assert RESUMED in log


async def is_ready(api: Api) -> bool:
    return (await api.client.get("/health/ready")).status_code == 200
