"""What an e2e test talks to: the API over HTTP, the `neodyme` command, and (read-only) the
database, each behind a few methods so that a test reads as a user journey."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

PASSWORD = "SecurePassword123!"
NEODYME = Path(sys.executable).parent / "neodyme"
ERROR_FIELDS = {"code", "message", "details", "request_id"}


def unique_email(tag: str) -> str:
    """An address no other test (or earlier run on a reused database) uses."""
    return f"{uuid.uuid4().hex[:8]}-{tag}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def describe(response: httpx.Response) -> str:
    """The exchange in one line, for assertion messages that point at the server."""
    request = response.request
    return (
        f"{request.method} {request.url.path} -> {response.status_code} "
        f"(request id {response.headers.get('x-request-id')}): {response.text}"
    )


def expect(response: httpx.Response, status: int) -> Any:
    """Assert the status and return the JSON body."""
    assert response.status_code == status, describe(response)
    return response.json()


def expect_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert the status, the error envelope of api.md and its code; return the error."""
    body = expect(response, status)
    assert set(body) == {"error"}, describe(response)
    error = body["error"]
    assert set(error) == ERROR_FIELDS, describe(response)
    assert error["code"] == code, describe(response)
    assert isinstance(error["message"], str), describe(response)
    assert error["message"], describe(response)
    assert isinstance(error["details"], dict), describe(response)
    assert error["request_id"], describe(response)
    assert error["request_id"] == response.headers["x-request-id"], describe(response)
    return dict(error)


class Api:
    """The neodyme HTTP API, one method per call a user makes."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def register(
        self, email: str, password: str = PASSWORD, full_name: str = "Test User"
    ) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/register",
            json={"email": email, "full_name": full_name, "password": password},
        )

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})

    async def me(self, token: str | None = None) -> httpx.Response:
        return await self.client.get("/api/v1/auth/me", headers=bearer(token) if token else {})

    async def user(self, user_id: str, token: str) -> httpx.Response:
        return await self.client.get(f"/api/v1/users/{user_id}", headers=bearer(token))

    async def signed_up(
        self, email: str, password: str = PASSWORD, full_name: str = "Test User"
    ) -> dict[str, Any]:
        """Register, insist on 201, and return the session (tokens and user)."""
        return dict(expect(await self.register(email, password, full_name), 201))


@dataclass(frozen=True, slots=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True, slots=True)
class Cli:
    """The real `neodyme` command, run with the server's environment."""

    env: Mapping[str, str]
    cwd: Path

    async def run(self, *args: str, stdin: str | None = None) -> CliResult:
        process = await asyncio.create_subprocess_exec(
            os.fspath(NEODYME),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(self.env),
            cwd=self.cwd,
        )
        stdin_bytes = None if stdin is None else stdin.encode()
        out, err = await asyncio.wait_for(process.communicate(stdin_bytes), timeout=60)
        assert process.returncode is not None
        return CliResult(process.returncode, out.decode(), err.decode())

    async def create_user(
        self, email: str, full_name: str, password: str, *, superuser: bool = False
    ) -> CliResult:
        flags = ["--superuser"] if superuser else []
        args = ["users", "create", "--email", email, "--full-name", full_name, *flags]
        return await self.run(*args, "--password-stdin", stdin=password + "\n")


class Database:
    """Read-only SQL on the server's database, to check what the API cannot show."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine.execution_options(postgresql_readonly=True)

    def _rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self._engine.connect() as connection:
            return [dict(row) for row in connection.execute(text(sql), params).mappings()]

    def events_of(self, user_id: str) -> list[dict[str, Any]]:
        """The user's security events, oldest first: type, user_id (str) and data."""
        rows = self._rows(
            "SELECT type, user_id, data FROM security_events"
            " WHERE user_id = :user_id ORDER BY occurred_at, id",
            user_id=uuid.UUID(user_id),
        )
        return [row | {"user_id": str(row["user_id"])} for row in rows]

    def users_with_email(self, email: str) -> int:
        """How many accounts hold this address, in any letter case."""
        rows = self._rows(
            "SELECT count(*) AS n FROM users WHERE lower(email) = lower(:email)", email=email
        )
        return int(rows[0]["n"])
