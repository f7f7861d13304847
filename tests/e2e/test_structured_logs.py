"""The session server logs JSON with the access log on (conftest.py): what a log shipper
reads from a real ``neodyme serve``. Every line of its log is one JSON object with the
fields of api.md (granian's own start-up lines included), and a request's access line
carries the id of the response's ``X-Request-ID`` header, the route template and the status.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.api import Api, expect, expect_error, unique_email
from tests.e2e.conftest import Server
from tests.e2e.faults import eventually

FIELDS = {"time", "level", "logger", "message", "request_id"}


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every complete line of the log, parsed (a line being written right now is left
    out); fails naming the first line that is not a JSON object."""
    text = path.read_text(encoding="utf-8")
    complete = text[: text.rfind("\n") + 1]
    documents = []
    for number, line in enumerate(complete.splitlines(), 1):
        try:
            document = json.loads(line)
        except ValueError:
            raise AssertionError(f"line {number} is not JSON: {line[:300]}") from None
        assert isinstance(document, dict), f"line {number} is not an object: {line[:300]}"
        documents.append(document)
    return documents


async def access_line(server: Server, request_id: str) -> dict[str, Any]:
    """The access line of a request, once written (after its response was sent)."""
    found: list[dict[str, Any]] = []

    def written() -> bool:
        found[:] = [
            line
            for line in json_lines(server.log_path)
            if line["logger"] == "neodyme.access" and line["request_id"] == request_id
        ]
        return bool(found)

    await eventually(written, within=10, what=f"the access line of request {request_id}")
    [line] = found
    return line


async def test_every_line_of_the_server_log_is_a_json_object_with_the_fields(
    api: Api, server: Server
) -> None:
    response = await api.client.get("/health")
    await access_line(server, response.headers["x-request-id"])

    documents = json_lines(server.log_path)

    for document in documents:
        assert set(document) >= FIELDS, document
        assert document["time"].endswith("Z"), document
    loggers = {document["logger"] for document in documents}
    assert "_granian" in loggers, "granian's start-up lines are JSON too"
    assert "neodyme.access" in loggers


async def test_the_access_line_carries_the_request_id_route_and_status(
    api: Api, server: Server
) -> None:
    session = await api.signed_up(unique_email("access-log"))
    someone = str(uuid.uuid4())

    response = await api.user(someone, session["access_token"])

    error = expect_error(response, 403, "FORBIDDEN")
    line = await access_line(server, error["request_id"])
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/users/{user_id}"
    assert line["status"] == 403
    assert isinstance(line["duration_ms"], float)
    assert line["client"] == "127.0.0.1"
    assert line["level"] == "INFO"
    assert someone not in json.dumps(line)  # the template, not the path
    # The error line of that request carries its id too.
    of_request = [d for d in json_lines(server.log_path) if d["request_id"] == line["request_id"]]
    assert {d["logger"] for d in of_request} == {"neodyme.http", "neodyme.access"}


async def test_a_query_string_never_reaches_the_access_line(api: Api, server: Server) -> None:
    planted = f"query-{uuid.uuid4().hex}"
    session = await api.signed_up(unique_email("query-string"))

    response = await api.client.get(
        "/api/v1/auth/me",
        params={"token": planted},
        headers={"Authorization": f"Bearer {session['access_token']}"},
    )

    expect(response, 200)
    line = await access_line(server, response.headers["x-request-id"])
    assert line["route"] == "/api/v1/auth/me"
    assert line["status"] == 200
    assert planted not in server.log_path.read_text(encoding="utf-8")
