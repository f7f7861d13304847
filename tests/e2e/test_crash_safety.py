"""Crash safety: SIGKILL the server (every process of it) in the middle of a burst of
registrations and start it again. A 201 is a promise: that account exists and can log in,
and its welcome e-mail was recorded in the same transaction (delivered or still pending,
never lost). No account exists without its welcome e-mail in the outbox, including the
accounts whose answer was lost in the crash. On PostgreSQL and on a SQLite file alike.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.e2e.api import expect, recipient
from tests.e2e.conftest import BACKENDS
from tests.e2e.faults import Rig, address, api_of, eventually

CONCURRENCY = 8
KILL_AFTER = 20
"""Acknowledged registrations before the kill; more are in flight when it lands."""
BURSTS = 3
"""Bursts to try: on a busy machine (a parallel test run) the client may have every answer
of the moment in hand when the kill lands, and then the crash cut no registration short;
the burst is repeated (after a restart) until one does."""


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_crash_mid_burst_loses_no_acknowledged_registration_nor_its_email(
    tmp_path: Path, backend: str
) -> None:
    with Rig(tmp_path, backend) as rig:
        url = rig.database("crash")
        sink = rig.smtp()
        # A short lease: e-mails the dead process had claimed are retried soon after.
        server = rig.server(rig.env(url, sink.port, outbox_lease_seconds="1"))
        reader = rig.reader(url)
        acknowledged: list[str] = []
        refused: list[httpx.Response] = []
        lost = 0

        async with api_of(server) as api:

            async def keep_registering(crashed: asyncio.Event) -> None:
                nonlocal lost
                while not crashed.is_set():
                    email = address("burst")
                    try:
                        response = await api.register(email)
                    except httpx.TransportError:  # the answer died with the server
                        lost += 1
                        return
                    if response.status_code == 201:
                        acknowledged.append(email)
                    else:
                        refused.append(response)

            for attempt in range(BURSTS):
                if attempt:
                    server.start()
                crashed = asyncio.Event()
                burst = [asyncio.create_task(keep_registering(crashed)) for _ in range(CONCURRENCY)]
                enough = len(acknowledged) + KILL_AFTER
                await eventually(
                    lambda enough=enough: len(acknowledged) >= enough,
                    within=15,
                    what="the burst under way",
                )
                server.kill()
                crashed.set()
                await asyncio.gather(*burst)
                assert not refused, [r.text for r in refused]
                if lost:
                    break
            assert lost, "the kill should land while registrations are in flight"

            server.start()  # same port: the client keeps its base URL

            stored = reader.emails()
            missing = set(acknowledged) - stored
            assert not missing, f"acknowledged with 201, gone after the crash: {missing}"
            assert reader.users_without_welcome() == []
            pending_or_sent = {row.recipient for row in reader.outbox() if row.kind == "welcome"}
            assert stored <= pending_or_sent

            for email in acknowledged:
                expect(await api.login(email), 200)

            # After the restart, every account's welcome e-mail goes out (at least once),
            # those the dead process had claimed included, once their lease has run out.
            def all_delivered() -> bool:
                return stored <= {recipient(m) for m in list(sink.messages)}

            await eventually(all_delivered, within=10, what="every welcome e-mail delivered")
