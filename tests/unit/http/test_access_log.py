"""The access log and request ids in log records, through the real app: one
``neodyme.access`` record per request, with the route template (never the path or query
string) and the request id of the response's ``X-Request-ID``, which every other record
logged while the request was handled carries too."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from neodyme_adapters.memory import RecordingNotifier
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container
from neodyme_app.logs import JsonFormatter, RequestIdFilter
from tests.unit.http.conftest import PASSWORD, eventually, serving


class Collected(logging.Handler):
    """What the JSON log of a server would hold, one parsed object per record."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestIdFilter(missing=None))
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["logger"] == "neodyme.access"]


@pytest.fixture
def logged() -> Iterator[Collected]:
    handler = Collected()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def one_access_line(logged: Collected) -> dict[str, Any]:
    await eventually(lambda: len(logged.access()) >= 1)
    [line] = logged.access()
    return line


async def test_a_request_gets_one_access_line_with_its_route_status_and_id(
    client: AsyncTestClient[Any], logged: Collected
) -> None:
    response = await client.get("/api/v1/auth/me")

    line = await one_access_line(logged)
    assert response.status_code == 401
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/auth/me"
    assert line["status"] == 401
    assert line["duration_ms"] >= 0
    assert line["client"] == "testclient"  # the test client's peer, as client_address says
    assert line["level"] == "INFO"
    assert line["message"].startswith("GET /api/v1/auth/me 401 ")


async def test_the_access_line_names_the_route_template_not_the_path_or_query(
    client: AsyncTestClient[Any], logged: Collected
) -> None:
    user_id = str(uuid.uuid4())
    planted = "query-token-that-must-not-be-logged"

    response = await client.get(f"/api/v1/users/{user_id}", params={"token": planted})

    line = await one_access_line(logged)
    assert line["route"] == "/api/v1/users/{user_id}"
    assert line["status"] == response.status_code
    # (The test client's own httpx logger writes the URL it asked for: not the server's.)
    everything = json.dumps([line for line in logged.lines if line["logger"] != "httpx"])
    assert user_id not in everything
    assert planted not in everything


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v1/nowhere/abc", 404), ("PUT", "/api/v1/auth/login", 405)],
)
async def test_a_request_that_matches_no_route_is_logged_without_one(
    client: AsyncTestClient[Any], logged: Collected, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)

    line = await one_access_line(logged)
    assert response.status_code == status
    assert line["route"] is None
    assert line["status"] == status
    assert line["method"] == method
    assert line["request_id"] == response.headers["x-request-id"]
    assert path not in line["message"]


async def test_every_record_of_a_request_carries_its_request_id(
    client: AsyncTestClient[Any], container: Container, logged: Collected
) -> None:
    class Broken:
        async def __call__(self, command: object) -> None:
            logging.getLogger("neodyme.test").info("deep inside the use case")
            raise RuntimeError("boom")

    container.register_user.override(providers.Factory(Broken))
    body = {"email": "boom@example.com", "full_name": "Boom", "password": PASSWORD}

    response = await client.post("/api/v1/auth/register", json=body)
    await one_access_line(logged)

    rid = response.headers["x-request-id"]
    by_logger = {line["logger"]: line for line in logged.lines}
    assert by_logger["neodyme.test"]["request_id"] == rid
    assert by_logger["neodyme.http"]["request_id"] == rid  # the 500's error line
    assert "RuntimeError: boom" in by_logger["neodyme.http"]["exc_info"]
    assert by_logger["neodyme.access"]["request_id"] == rid
    assert by_logger["neodyme.access"]["status"] == 500
    # Two requests, two ids; and none is left behind in the test's own context.
    again = await client.post("/api/v1/auth/register", json=body)
    assert again.headers["x-request-id"] != rid
    logging.getLogger("neodyme.test").info("after the requests")
    assert logged.lines[-1]["request_id"] is None


async def test_with_the_access_log_off_no_access_line_is_written(
    settings: Settings, notifier: RecordingNotifier, logged: Collected
) -> None:
    container = build_container(replace(settings, access_log=False))
    container.notifier.override(providers.Object(notifier))
    with serving(container) as app:
        async with AsyncTestClient(app=app) as client:
            response = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer x"})

    assert response.status_code == 401
    assert logged.access() == []
    # Request ids do not depend on the access log: the error line still has it.
    [error] = [line for line in logged.lines if line["logger"] == "neodyme.http"]
    assert error["request_id"] == response.headers["x-request-id"]
