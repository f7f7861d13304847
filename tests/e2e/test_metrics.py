"""/metrics from a real `neodyme serve` with two worker processes: after known traffic,
every scrape (whichever worker answers it) shows the totals of both workers; the outbox,
hash and pool figures are there; with NEODYME_METRICS_PORT the metrics move to that port,
served by the main process, and leave the API port. Parsed as Prometheus parses them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.api import expect
from tests.e2e.faults import Rig, address, api_of, eventually
from tests.support.metrics import Exposition
from tests.support.server import ServerProcess, free_port

WRONG = "WrongPassword123!"
WORKERS = 2
SCRAPES = 8
"""Each scrape on a connection of its own: with two workers, some are answered by each."""


@dataclass(frozen=True, slots=True)
class Served:
    server: ServerProcess
    tmp: Path
    """The server's TMPDIR: where its metrics directory lives while it runs."""


def started(rig: Rig, workdir: Path, **settings: str) -> Served:
    tmp = workdir / f"tmp-{len(rig.servers)}"
    tmp.mkdir()
    env = rig.env(rig.database("metrics"), rig.smtp().port, hash_concurrency="1", **settings)
    env["TMPDIR"] = str(tmp)
    return Served(rig.server(env, workers=WORKERS), tmp)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with Rig(tmp_path_factory.mktemp("metrics")) as rig:
        yield rig


def scrape(url: str) -> Exposition:
    """One scrape on a new connection, as Prometheus makes them."""
    with httpx.Client(timeout=10, trust_env=False) as client:
        response = client.get(url, headers={"Connection": "close"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Exposition.parse(response.text)


def requests(metrics: Exposition, method: str, route: str, status: str) -> float:
    return metrics.value("neodyme_http_requests_total", method=method, route=route, status=status)


async def known_traffic(server: ServerProcess) -> None:
    """4 registrations; 5 wrong passwords for one account, which lock it, and a 6th
    attempt refused; 6 GET /auth/me. Concurrent, so that both workers take some."""
    async with api_of(server) as api:
        sessions = await asyncio.gather(*(api.signed_up(address(f"m{n}")) for n in range(4)))
        victim = sessions[0]["user"]["email"]
        for _ in range(5):
            expect(await api.login(victim, WRONG), 401)
        expect(await api.login(victim, WRONG), 429)
        token = sessions[1]["access_token"]
        for response in await asyncio.gather(*(api.me(token) for _ in range(6))):
            expect(response, 200)


def assert_totals(metrics: Exposition) -> None:
    assert requests(metrics, "POST", "/api/v1/auth/register", "201") == 4
    assert requests(metrics, "POST", "/api/v1/auth/login", "401") == 5
    assert requests(metrics, "POST", "/api/v1/auth/login", "429") == 1
    assert requests(metrics, "GET", "/api/v1/auth/me", "200") == 6
    assert metrics.value("neodyme_logins_total", outcome="invalid") == 5
    assert metrics.value("neodyme_logins_total", outcome="locked") == 1
    assert metrics.value("neodyme_logins_total", outcome="success") == 0
    assert metrics.value("neodyme_lockouts_total", scope="account") == 1
    # Four registrations hashed; five wrong passwords verified (the refusal hashed nothing).
    assert metrics.value("neodyme_hash_duration_seconds_count") == 9
    assert metrics.value("neodyme_outbox_up") == 1
    assert {"neodyme_outbox_pending", "neodyme_outbox_failing", "neodyme_outbox_dead"} <= set(
        metrics.families
    )
    assert "neodyme_outbox_oldest_pending_age_seconds" in metrics.families


async def both_workers_up(url: str) -> None:
    """Each worker reports its one hashing thread once it started: the sum says both did
    (and that live gauges are summed over the processes)."""
    await eventually(
        lambda: scrape(url).value("neodyme_hash_threads") == WORKERS,
        within=30,
        what=f"{WORKERS} workers reporting their hashing thread",
    )


async def test_every_scrape_shows_the_totals_of_all_workers(rig: Rig, tmp_path: Path) -> None:
    served = started(rig, tmp_path)
    metrics_url = served.server.base_url + "/metrics"
    await both_workers_up(metrics_url)

    await known_traffic(served.server)

    for _ in range(SCRAPES):
        assert_totals(scrape(metrics_url))
    final = scrape(metrics_url)
    # Nothing leaked: at most each worker's e-mail dispatcher is polling right now.
    assert 0 <= final.value("neodyme_db_connections_in_use") <= WORKERS
    assert final.value("neodyme_db_pool_size") == WORKERS * 10  # NEODYME_DB_POOL_SIZE each
    assert final.value("neodyme_hash_queue_depth") == 0
    routes = final.label_values("neodyme_http_requests_total", "route")
    assert not any("@" in route or "?" in route for route in routes)


async def test_a_metrics_port_serves_them_from_the_main_process_and_not_the_api(
    rig: Rig, tmp_path: Path
) -> None:
    port = free_port()
    served = started(rig, tmp_path, metrics_port=str(port))
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    await both_workers_up(metrics_url)
    assert len(list(served.tmp.glob("neodyme-metrics-*"))) == 1  # the workers' directory

    await known_traffic(served.server)

    assert_totals(scrape(metrics_url))
    async with api_of(served.server) as api:
        expect(await api.client.get("/metrics"), 404)

    served.server.stop()
    assert not list(served.tmp.iterdir())  # the metrics directory went with the server
