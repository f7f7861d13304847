"""What an e2e test talks to: the API over HTTP, the `neodyme` command, and (read-only) the
database, each behind a few methods so that a test reads as a user journey."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import ColumnElement, Engine, Select, Table, func, select

from neodyme_adapters.sqlalchemy import tables
from tests.support.builders import a_person
from tests.support.smtp import SmtpSink

PASSWORD = "SecurePassword123!"
NEODYME = Path(sys.executable).parent / "neodyme"
ERROR_FIELDS = {"code", "message", "details", "request_id"}


def unique_email(tag: str) -> str:
    """An invented person's address (tests/support/builders.py: dots, mixed case, real
    providers), made one no other test or earlier run on a reused database uses by a
    plus-tag: ``Jean.Dupont+reset-3f2a9c1b@orange.fr``."""
    local, _, domain = a_person().email.rpartition("@")
    name = local.partition("+")[0][:24].rstrip(".-_'")  # room for the tag in 64 characters
    return f"{name}+{tag}-{uuid.uuid4().hex[:8]}@{domain}"


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
        self,
        email: str,
        password: str = PASSWORD,
        full_name: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """``full_name``: an invented person's name unless given."""
        name = a_person().full_name if full_name is None else full_name
        return await self.client.post(
            "/api/v1/auth/register",
            json={"email": email, "full_name": name, "password": password},
            headers=headers,
        )

    async def login(
        self, email: str, password: str = PASSWORD, *, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
        )

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})

    async def me(self, token: str | None = None) -> httpx.Response:
        return await self.client.get("/api/v1/auth/me", headers=bearer(token) if token else {})

    async def user(self, user_id: str, token: str) -> httpx.Response:
        return await self.client.get(f"/api/v1/users/{user_id}", headers=bearer(token))

    async def logout(self, refresh_token: str) -> httpx.Response:
        return await self.client.post("/api/v1/auth/logout", json={"refresh_token": refresh_token})

    async def change_password(self, token: str, current: str, new: str) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/change-password",
            json={"current_password": current, "new_password": new},
            headers=bearer(token),
        )

    async def forgot_password(self, email: str) -> httpx.Response:
        return await self.client.post("/api/v1/auth/forgot-password", json={"email": email})

    async def reset_password(self, reset_token: str, new_password: str) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/reset-password",
            json={"token": reset_token, "new_password": new_password},
        )

    async def request_verification(self, token: str) -> httpx.Response:
        return await self.client.post("/api/v1/auth/request-verification", headers=bearer(token))

    async def verify(self, verification_token: str) -> httpx.Response:
        return await self.client.post("/api/v1/auth/verify", json={"token": verification_token})

    async def update_me(self, token: str, **fields: Any) -> httpx.Response:
        return await self.client.patch("/api/v1/users/me", json=fields, headers=bearer(token))

    async def delete_me(self, token: str, password: str) -> httpx.Response:
        return await self.client.request(
            "DELETE", "/api/v1/users/me", json={"password": password}, headers=bearer(token)
        )

    async def list_users(
        self, token: str, limit: int | None = None, cursor: str | None = None
    ) -> httpx.Response:
        return await self.client.get(
            "/api/v1/users", params=_page_params(limit, cursor), headers=bearer(token)
        )

    async def set_active(self, user_id: str, token: str, is_active: bool) -> httpx.Response:
        return await self.client.patch(
            f"/api/v1/users/{user_id}", json={"is_active": is_active}, headers=bearer(token)
        )

    async def my_events(
        self,
        token: str,
        limit: int | None = None,
        cursor: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.get(
            "/api/v1/users/me/events",
            params=_page_params(limit, cursor),
            headers=bearer(token) | dict(headers or {}),
        )

    async def change_email(self, token: str, new_email: str, password: str) -> httpx.Response:
        return await self.client.post(
            "/api/v1/users/me/email",
            json={"new_email": new_email, "password": password},
            headers=bearer(token),
        )

    async def confirm_email(self, change_token: str) -> httpx.Response:
        return await self.client.post("/api/v1/auth/confirm-email", json={"token": change_token})

    async def mfa(
        self, path: str, body: Mapping[str, Any], token: str | None = None
    ) -> httpx.Response:
        """POST /auth/mfa/{path}: setup, confirm, verify, recovery-codes, disable."""
        headers = bearer(token) if token else {}
        return await self.client.post(f"/api/v1/auth/mfa/{path}", json=dict(body), headers=headers)

    async def sessions(self, token: str, user_id: str = "me") -> httpx.Response:
        return await self.client.get(f"/api/v1/users/{user_id}/sessions", headers=bearer(token))

    async def end_session(self, token: str, session_id: str, user_id: str = "me") -> httpx.Response:
        return await self.client.delete(
            f"/api/v1/users/{user_id}/sessions/{session_id}", headers=bearer(token)
        )

    async def end_other_sessions(self, token: str, user_id: str = "me") -> httpx.Response:
        return await self.client.delete(f"/api/v1/users/{user_id}/sessions", headers=bearer(token))

    async def signed_up(
        self, email: str, password: str = PASSWORD, full_name: str | None = None
    ) -> dict[str, Any]:
        """Register, insist on 201, and return the session (tokens and user)."""
        return dict(expect(await self.register(email, password, full_name), 201))


def _page_params(limit: int | None, cursor: str | None) -> dict[str, str | int]:
    params: dict[str, str | int] = {}
    if limit is not None:
        params["limit"] = limit
    if cursor is not None:
        params["cursor"] = cursor
    return params


LINK_PATHS = {
    "password_reset": "/reset-password",
    "email_verification": "/verify-email",
    "email_change": "/confirm-email",
}
"""The client-app path each kind of one-time link points at (api.md)."""


def recipient(message: EmailMessage) -> str:
    """The one address in the To header, without any display name."""
    addresses = message["To"].addresses
    assert len(addresses) == 1, message["To"]
    return str(addresses[0].addr_spec)


@dataclass(frozen=True, slots=True)
class Mailbox:
    """What the server sent to the SMTP sink, read the way a user reads their mail."""

    sink: SmtpSink
    public_url: str

    def to(self, address: str, kind: str | None = None) -> list[EmailMessage]:
        """Every e-mail received so far for ``address`` (of ``kind``, if given)."""
        return [
            message
            for message in list(self.sink.messages)
            if recipient(message) == address and (kind is None or message["X-Neodyme-Kind"] == kind)
        ]

    async def wait_for(self, kind: str, address: str) -> EmailMessage:
        return await self.sink.wait_for(
            lambda m: m["X-Neodyme-Kind"] == kind and recipient(m) == address
        )

    async def token(self, kind: str, address: str) -> str:
        """Wait for the ``kind`` e-mail to ``address`` and return the token of its link,
        which must be ``{public_url}{path}?token=...`` and the only such link."""
        message = await self.wait_for(kind, address)
        body = message.get_content()
        prefix = f"{self.public_url}{LINK_PATHS[kind]}?"
        links = [word for word in body.split() if word.startswith(prefix)]
        assert len(links) == 1, f"expected one {prefix}... link in:\n{body}"
        query = parse_qs(urlsplit(links[0]).query, strict_parsing=True)
        assert list(query) == ["token"], links[0]
        assert len(query["token"]) == 1, links[0]
        return query["token"][0]


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
    """Read-only SQL on the server's database (PostgreSQL or SQLite), to check what the API
    cannot show. Through the product's table definitions, so that ids and JSON come back
    typed alike from both."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine.execution_options(postgresql_readonly=True)

    def _rows(self, query: Select[Any]) -> list[dict[str, Any]]:
        with self._engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def events_of(self, user_id: str) -> list[dict[str, Any]]:
        """The user's security events, oldest first: type, user_id (str) and data."""
        events = tables.security_events.c
        rows = self._rows(
            select(events.type, events.user_id, events.data)
            .where(events.user_id == uuid.UUID(user_id))
            .order_by(events.occurred_at, events.id)
        )
        return [row | {"user_id": str(row["user_id"])} for row in rows]

    def user_ids(self) -> set[str]:
        return {str(row["id"]) for row in self._rows(select(tables.users.c.id))}

    def users_by_email(self) -> dict[str, str]:
        """Every account's id, by its (stored) address."""
        rows = self._rows(select(tables.users.c.id, tables.users.c.email))
        return {row["email"]: str(row["id"]) for row in rows}

    def event_ids_of(self, user_id: str) -> set[str]:
        events = tables.security_events.c
        rows = self._rows(select(events.id).where(events.user_id == uuid.UUID(user_id)))
        return {str(row["id"]) for row in rows}

    def emails_queued_for(self, address: str) -> int:
        """Rows in the e-mail outbox addressed to ``address``, sent or not."""
        outbox = tables.email_outbox
        return self._count(outbox, func.lower(outbox.c.recipient) == address.lower())

    def users_with_email(self, email: str) -> int:
        """How many accounts hold this address, in any letter case."""
        return self._count(tables.users, func.lower(tables.users.c.email) == email.lower())

    def _count(self, table: Table, condition: ColumnElement[bool]) -> int:
        rows = self._rows(select(func.count().label("n")).select_from(table).where(condition))
        return int(rows[0]["n"])
