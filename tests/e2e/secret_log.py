"""Every secret the e2e run hands the server or gets from it, and a scan of the server's log
for any of them (api.md: no password, token, hash or SMTP password is ever logged).

``SecretLog`` is one per session (per xdist worker). It learns secrets from:

- the API client's traffic (``hooks()`` are httpx event hooks on the ``api`` fixture's
  client): every password field sent, every token sent (body or ``Authorization``) and
  every token received;
- the SMTP sink: the one-time reset and verification tokens in the e-mailed links;
- the database: every password hash, read before each request that replaces or deletes
  one (change-password, reset-password, account deletion) and once more at the end;
- the server's settings: the JWT signing key and the SMTP password.

At the end of the session (``audit``, when ``audited_run`` ends: the teardown of the
``secret_log`` fixture, after the server has stopped) the whole log is searched for each,
as written and as a JSON string or a Python repr would escape it (``written_forms``: the
session server logs JSON, where quotes and backslashes come escaped); a hit fails the run,
naming what leaked and the log line. Only secrets of ``MIN_LENGTH`` characters or more,
and not made of letters alone, are searched for: a short test password such as ``123``
turns up in timestamps by chance, and a weak one such as ``password`` in every log line
about ``/auth/reset-password``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from tests.support.smtp import SmtpSink

MIN_LENGTH = 8
SECRET_FIELDS = frozenset(
    {
        *("password", "current_password", "new_password"),
        *("access_token", "refresh_token", "token", "mfa_token"),
        *("secret", "otpauth_uri", "recovery_code", "recovery_codes"),
    }
)
"""JSON fields (requests and responses) whose values are secrets."""
HASH_REPLACING = (
    ("POST", re.compile(r"/auth/(change|reset)-password$")),
    ("DELETE", re.compile(r"/users/me$")),
)
"""Requests before which the current password hashes are read: afterwards they are gone."""
LINK_TOKEN = re.compile(r"[?&]token=([^\s&\"'<>]+)")


@dataclass
class SecretLog:
    """What counts as a secret in this run, and where it came from."""

    secrets: dict[str, set[str]] = field(default_factory=dict)
    """secret -> what it is (every place it was seen)."""
    log_paths: list[Path] = field(default_factory=list)
    read_hashes: Callable[[], list[str]] | None = None
    """Every password hash in the server's database right now."""

    def add(self, kind: str, value: object) -> None:
        if isinstance(value, str) and len(value) >= MIN_LENGTH and not value.isalpha():
            self.secrets.setdefault(value, set()).add(kind)

    def watch(self, log_path: Path, env: Mapping[str, str]) -> None:
        """A server to audit: its log file, and the secrets among its settings."""
        self.log_paths.append(log_path)
        self.add("NEODYME_SECRET_KEY", env.get("NEODYME_SECRET_KEY"))
        self.add("NEODYME_SMTP_PASSWORD", env.get("NEODYME_SMTP_PASSWORD"))

    # learning

    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self._on_request], "response": [self._on_response]}

    async def _on_request(self, request: httpx.Request) -> None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        self.add(f"{scheme or 'authorization'} credentials sent", credentials.strip())
        for name, value in request.url.params.multi_items():
            if name in SECRET_FIELDS or "token" in name:
                self.add(f"query parameter {name} sent", value)
        self._add_json_fields("sent", request.content)
        if any(
            request.method == method and pattern.search(request.url.path)
            for method, pattern in HASH_REPLACING
        ):
            self.snapshot_hashes()

    async def _on_response(self, response: httpx.Response) -> None:
        await response.aread()
        self._add_json_fields("received", response.content)

    def _add_json_fields(self, direction: str, content: bytes) -> None:
        """Whatever the content type claims (the input-abuse tests send JSON as text/plain)."""
        if not content:
            return
        try:
            for name, value in _fields(json.loads(content)):
                if name in SECRET_FIELDS:
                    for each in value if isinstance(value, list) else [value]:
                        self.add(f"{name} {direction}", each)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply on purpose
            return

    def add_mail(self, messages: list[EmailMessage]) -> None:
        for message in messages:
            body = message.get_body(("plain", "html"))
            content = (body or message).get_content()
            for token in LINK_TOKEN.findall(str(content)):
                self.add(f"one-time token e-mailed ({message['X-Neodyme-Kind']})", unquote(token))

    def snapshot_hashes(self) -> None:
        if self.read_hashes is not None:
            for hashed in self.read_hashes():
                self.add("password hash", hashed)

    # checking

    def kinds(self) -> set[str]:
        return set().union(*self.secrets.values())

    def leaks(self) -> list[str]:
        """Each secret found in a watched log, with (a redacted copy of) its log line."""
        found = []
        for path in self.log_paths:
            if not path.exists():
                continue
            lines = path.read_text(errors="replace").splitlines()
            text_ = "\n".join(lines)
            for secret, kinds in self.secrets.items():
                written = next((form for form in written_forms(secret) if form in text_), None)
                if written is None:
                    continue
                line = next((line for line in lines if written in line), "")
                line = line.replace(written, f"<{len(secret)} characters of secret>")
                kind = " / ".join(sorted(kinds))
                found.append(f"{kind} in {path.name}: {line[:300]}")
        return found

    def audit(self, sink: SmtpSink) -> None:
        self.add_mail(list(sink.messages))
        self.snapshot_hashes()
        leaks = self.leaks()
        if leaks:
            pytest.fail(
                f"{len(leaks)} secret(s) of this run appear in the server log:\n"
                + "\n".join(leaks),
                pytrace=False,
            )


def written_forms(secret: str) -> list[str]:
    """The ways a log line can hold ``secret``: as is, inside a JSON string (escaped as our
    JSON lines escape it, UTF-8 kept, or with non-ASCII escaped too, as other encoders
    do), or inside a Python repr (a dict or exception in a text line)."""
    forms = [
        secret,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
    ]
    return list(dict.fromkeys(forms))


def _fields(document: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair anywhere in a JSON document."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield str(key), value
            yield from _fields(value)
    elif isinstance(document, list):
        for item in document:
            yield from _fields(item)


@contextmanager
def audited_run(database_url: str, sink: SmtpSink) -> Iterator[SecretLog]:
    """The session's ``SecretLog``; when the block ends without an error, the audit runs
    (and fails the run if a secret was logged). The e2e conftest's ``secret_log`` fixture
    wraps this; the ``server`` fixture requests it, so that it ends after the server has
    stopped (the whole log is written) and before the database is dropped."""
    engine = create_engine(database_url, poolclass=NullPool)

    def read_hashes() -> list[str]:
        with engine.connect() as connection:
            if not inspect(connection).has_table("users"):  # no session server ran on it
                return []
            rows = connection.execute(text("SELECT hashed_password FROM users"))
            return [str(hashed) for hashed in rows.scalars()]

    log = SecretLog(read_hashes=read_hashes)
    try:
        yield log
        log.audit(sink)
    finally:
        engine.dispose()
