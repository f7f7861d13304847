"""GET /metrics on an in-memory app: the Prometheus text format, every family neodyme_*,
figures that count exactly the traffic sent, routes by template, and the settings that
move the endpoint or turn it off."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container
from tests.support.metrics import Exposition
from tests.unit.http.conftest import PASSWORD, bearer, eventually, serving

WRONG = "WrongPassword123!"
FAMILIES = {
    "neodyme_http_requests": "counter",
    "neodyme_http_request_duration_seconds": "histogram",
    "neodyme_hash_threads": "gauge",
    "neodyme_hash_queue_limit": "gauge",
    "neodyme_hash_queue_depth": "gauge",
    "neodyme_hash_duration_seconds": "histogram",
    "neodyme_hash_refused": "counter",
    "neodyme_logins": "counter",
    "neodyme_lockouts": "counter",
    "neodyme_db_pool_size": "gauge",
    "neodyme_db_connections_in_use": "gauge",
    "neodyme_db_pool_wait_seconds": "histogram",
    "neodyme_outbox_up": "gauge",
    "neodyme_outbox_pending": "gauge",
    "neodyme_outbox_failing": "gauge",
    "neodyme_outbox_dead": "gauge",
    "neodyme_outbox_oldest_pending_age_seconds": "gauge",
}


async def scrape(client: AsyncTestClient[Any]) -> Exposition:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return Exposition.parse(response.text)


async def login(client: AsyncTestClient[Any], email: str, password: str) -> int:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return int(response.status_code)


def requests(metrics: Exposition, method: str, route: str, status: str) -> float:
    return metrics.value("neodyme_http_requests_total", method=method, route=route, status=status)


async def test_the_exposition_counts_exactly_the_traffic_sent(
    client: AsyncTestClient[Any], register: Any
) -> None:
    tokens = [(await register(f"counted{n}@example.com")).json() for n in range(2)]
    for _ in range(3):
        assert await login(client, "counted0@example.com", WRONG) == 401
    assert await login(client, "counted1@example.com", PASSWORD) == 200
    for _ in range(4):
        response = await client.get("/api/v1/auth/me", headers=bearer(tokens[0]["access_token"]))
        assert response.status_code == 200

    metrics = await scrape(client)

    assert metrics.families == FAMILIES
    assert requests(metrics, "POST", "/api/v1/auth/register", "201") == 2
    assert requests(metrics, "POST", "/api/v1/auth/login", "401") == 3
    assert requests(metrics, "POST", "/api/v1/auth/login", "200") == 1
    assert requests(metrics, "GET", "/api/v1/auth/me", "200") == 4
    latency = "neodyme_http_request_duration_seconds_count"
    assert metrics.value(latency, method="GET", route="/api/v1/auth/me") == 4
    assert metrics.value("neodyme_logins_total", outcome="invalid") == 3
    assert metrics.value("neodyme_logins_total", outcome="success") == 1
    assert metrics.value("neodyme_logins_total", outcome="locked") == 0
    # Two registrations and one successful login hashed; three failures and one success
    # verified a password.
    assert metrics.value("neodyme_hash_duration_seconds_count") == 6
    assert metrics.value("neodyme_hash_queue_depth") == 0


async def test_a_lockout_and_the_refusals_it_causes_are_counted(
    client: AsyncTestClient[Any], register: Any
) -> None:
    await register("locked@example.com")
    statuses = [await login(client, "locked@example.com", WRONG) for _ in range(6)]
    assert statuses == [401] * 5 + [429]

    metrics = await scrape(client)

    assert metrics.value("neodyme_lockouts_total", scope="account") == 1
    assert metrics.value("neodyme_lockouts_total", scope="address") == 0
    assert metrics.value("neodyme_logins_total", outcome="invalid") == 5
    assert metrics.value("neodyme_logins_total", outcome="locked") == 1


async def test_routes_are_templates_never_raw_paths_or_query_strings(
    client: AsyncTestClient[Any], register: Any
) -> None:
    token = (await register("route@example.com")).json()["access_token"]
    user_id = str(uuid.uuid4())
    await client.get(f"/api/v1/users/{user_id}?probe=1", headers=bearer(token))
    for n in range(3):
        await client.get(f"/no/such/path/{n}?q={n}")
    await client.request("BREW", "/health")  # any method name a client likes

    metrics = await scrape(client)

    routes = metrics.label_values("neodyme_http_requests_total", "route")
    assert "/api/v1/users/{user_id}" in routes
    assert not any(user_id in route or "?" in route or "/no/such" in route for route in routes)
    assert requests(metrics, "GET", "unmatched", "404") == 3
    methods = metrics.label_values("neodyme_http_requests_total", "method")
    assert "BREW" not in methods
    assert "other" in methods


async def test_the_outbox_figures_are_read_at_scrape_time(
    client: AsyncTestClient[Any], register: Any, notifier: RecordingNotifier
) -> None:
    notifier.failure = ConnectionRefusedError("no SMTP server")
    await register("outbox@example.com")  # its welcome e-mail cannot be delivered
    await eventually(lambda: notifier.attempts >= 1)

    metrics = await scrape(client)

    assert metrics.value("neodyme_outbox_up") == 1
    assert metrics.value("neodyme_outbox_pending") == 1
    assert metrics.value("neodyme_outbox_failing") == 1
    assert metrics.value("neodyme_outbox_dead") == 0
    assert metrics.value("neodyme_outbox_oldest_pending_age_seconds") >= 0


async def test_an_unreadable_outbox_costs_its_figures_not_the_scrape(
    container: Container, client: AsyncTestClient[Any]
) -> None:
    class Unreachable:
        async def __call__(self) -> None:
            raise ConnectionResetError("the database went away")

    container.outbox_status.override(providers.Factory(Unreachable))

    metrics = await scrape(client)

    assert metrics.value("neodyme_outbox_up") == 0
    assert "neodyme_outbox_pending" not in metrics.families
    assert "neodyme_logins" in metrics.families


@pytest.mark.parametrize(
    "change", [{"metrics": False}, {"metrics_port": 9464}], ids=["metrics-off", "own-port"]
)
async def test_the_api_port_serves_no_metrics_when_they_are_off_or_elsewhere(
    settings: Settings, change: dict[str, Any]
) -> None:
    container = build_container(dataclasses.replace(settings, **change))
    with serving(container) as app:
        async with AsyncTestClient(app=app) as client:
            assert (await client.get("/metrics")).status_code == 404
            schema = (await client.get("/schema/openapi.json")).json()

    assert "/metrics" not in schema["paths"]


async def test_metrics_are_left_out_of_the_openapi_document(
    client: AsyncTestClient[Any],
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()

    assert "/metrics" not in schema["paths"]


async def test_two_neodymes_in_one_process_keep_their_own_figures(settings: Settings) -> None:
    """The unit tests and in-process callers build many containers in one process: each
    has its own registry, so nothing is registered twice and no count leaks."""
    one, other = build_container(settings), build_container(settings)
    one.metrics().login("invalid")

    assert (
        Exposition.parse(one.metrics().scrape().decode()).value(
            "neodyme_logins_total", outcome="invalid"
        )
        == 1
    )
    assert (
        Exposition.parse(other.metrics().scrape().decode()).value(
            "neodyme_logins_total", outcome="invalid"
        )
        == 0
    )
