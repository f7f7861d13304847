"""What the fault tests build for themselves, apart from the session's shared server: a
scratch database, a TCP proxy in front of it, an SMTP server, and one or more
``neodyme serve`` processes, all torn down when the test ends.

    with Rig(tmp_path) as rig:
        url = rig.database("outage")
        proxy, proxied_url = rig.proxy(url)
        sink = rig.smtp()
        server = rig.server(rig.env(proxied_url, sink.port))

``Rig(tmp_path, "sqlite")`` makes its databases SQLite files instead (each a copy of one
migrated by the real `neodyme db upgrade`); the fault tests that hold on both databases
take ``backend`` from ``BACKENDS``.

A failing test's error carries the end of each of its servers' logs (as exception notes).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from tests.e2e.api import Api
from tests.e2e.conftest import BACKENDS
from tests.support.postgres import drop_database, resolve_postgres_url, scratch_database
from tests.support.server import ServerProcess, migrate, server_env
from tests.support.smtp import SmtpSink
from tests.support.tcp_proxy import TcpProxy, postgres_proxy, proxied_url

FAST = {"outbox_poll_seconds": "0.2"}
"""Settings every fault test wants: the dispatcher looks for due e-mails five times a second."""

LOG_LINES = 40


class Rig:
    def __init__(self, workdir: Path, backend: str = "postgres") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}")
        self.workdir = workdir
        self.backend = backend
        self.servers: list[ServerProcess] = []
        self._stack = ExitStack()
        self._migrated: set[str] = set()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self._explain(exc)
        self._stack.close()

    @contextmanager
    def explained(self) -> Iterator[None]:
        """Add the servers' logs to an error raised in the block (for a rig that outlives
        one test: a module fixture's)."""
        try:
            yield
        except BaseException as exc:
            self._explain(exc)
            raise

    def _explain(self, exc: BaseException) -> None:
        for server in self.servers:
            exc.add_note(
                f"--- {server.log_path.name}, last {LOG_LINES} lines ---\n"
                + server.log_tail(lines=LOG_LINES)
            )

    def database(self, tag: str) -> str:
        """A new database of the rig's backend with neodyme's schema and no rows (dropped
        at the end); its URL."""
        if self.backend == "sqlite":
            path = self.workdir / f"{tag}-{secrets.token_hex(4)}.db"
            shutil.copyfile(_migrated_sqlite_template(self.workdir), path)
            url = f"sqlite+aiosqlite:///{path}"
            self._migrated.add(url)
            return url
        base = resolve_postgres_url()
        name = f"neodyme_{tag}_{secrets.token_hex(4)}"
        url = scratch_database(base, name, template=_migrated_template(self.workdir))
        self._stack.callback(drop_database, base, name)
        self._migrated.add(url)
        return url

    def reader(self, url: str) -> Reader:
        engine = create_engine(url.replace("sqlite+aiosqlite:", "sqlite:"), poolclass=NullPool)
        self._stack.callback(engine.dispose)
        return Reader(engine)

    def proxy(self, url: str) -> tuple[TcpProxy, str]:
        """A proxy to ``url``'s server, and the URL of the same database through it
        (PostgreSQL: a SQLite file has no server to cut off)."""
        proxy = self._stack.enter_context(postgres_proxy(url))
        return proxy, proxied_url(proxy, url)

    def smtp(self, **options: Any) -> SmtpSink:
        """A started SMTP sink (``options``: ``SmtpSink``'s, e.g. ``tls_context``)."""
        return self._stack.enter_context(SmtpSink(**options))

    def env(self, database_url: str, smtp_port: int, **overrides: str) -> dict[str, str]:
        """The server environment (with FAST defaults), migrating the database once."""
        env = server_env(database_url, "127.0.0.1", smtp_port, **(FAST | overrides))
        if database_url not in self._migrated:
            migrate(env, self.workdir)
            self._migrated.add(database_url)
        return env

    def server(
        self, env: dict[str, str], *, workers: int = 1, port: int | None = None
    ) -> ServerProcess:
        """A started server, stopped at the end (on ``port``, or a free one)."""
        name = f"server-{len(self.servers)}"
        server = ServerProcess(env, self.workdir, workers=workers, port=port, name=name)
        self.servers.append(server)
        self._stack.callback(server.stop)
        return server.start()


_template: list[str] = []
_sqlite_template: list[Path] = []


def _migrated_sqlite_template(workdir: Path) -> Path:
    """A SQLite file migrated by the real `neodyme db upgrade`, once per process, that each
    SQLite fault test's database is copied from."""
    if not _sqlite_template:
        directory = Path(tempfile.mkdtemp(prefix="neodyme-sqlite-template-"))
        atexit.register(shutil.rmtree, directory, True)
        path = directory / "template.db"
        migrate(server_env(f"sqlite+aiosqlite:///{path}", "127.0.0.1", 25), workdir)
        _sqlite_template.append(path)
    return _sqlite_template[0]


def _migrated_template(workdir: Path) -> str:
    """A database migrated by the real `neodyme db upgrade`, once per process, that each
    fault test's database is copied from: a copy takes a fraction of a migration."""
    if not _template:
        base = resolve_postgres_url()
        name = f"neodyme_fault_template_{os.getpid()}"
        migrate(server_env(scratch_database(base, name), "127.0.0.1", 25), workdir)
        atexit.register(drop_database, base, name)
        _template.append(name)
    return _template[0]


@asynccontextmanager
async def api_of(server: ServerProcess) -> AsyncIterator[Api]:
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=30, limits=limits, trust_env=False
    ) as client:
        yield Api(client)


@dataclass(frozen=True, slots=True)
class Outboxed:
    recipient: str
    kind: str
    attempts: int
    sent: bool


class Reader:
    """Read-only SQL on a fault test's database (directly, never through the proxy)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self._engine.connect() as connection:
            return [dict(row) for row in connection.execute(text(sql), params).mappings()]

    def emails(self) -> set[str]:
        return {row["email"] for row in self.rows("SELECT email FROM users")}

    def outbox(self) -> list[Outboxed]:
        rows = self.rows("SELECT recipient, kind, attempts, sent_at FROM email_outbox")
        return [
            Outboxed(row["recipient"], row["kind"], row["attempts"], row["sent_at"] is not None)
            for row in rows
        ]

    def users_without_welcome(self) -> list[str]:
        """Accounts with no welcome e-mail in the outbox (sent or not)."""
        return [
            row["email"]
            for row in self.rows(
                "SELECT u.email FROM users u WHERE NOT EXISTS (SELECT 1 FROM email_outbox o"
                " WHERE o.kind = 'welcome' AND lower(o.recipient) = lower(u.email))"
            )
        ]


def address(tag: str) -> str:
    return f"{uuid.uuid4().hex[:10]}-{tag}@example.com"


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    within: float,
    what: str,
    every: float = 0.05,
) -> float:
    """Poll ``check`` until it is true; the seconds it took. Fails after ``within``."""
    started = time.monotonic()
    while True:
        outcome = check()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within}s: {what}")
        await asyncio.sleep(every)


async def everything_sent(reader: Reader, *, within: float = 15.0) -> None:
    """Wait until every row of the outbox is marked sent. From then on nothing can be sent
    again, so the mail server's count is final: claims skip sent rows, a row is marked
    only after its send returned, and a send still in flight elsewhere cannot outlive its
    lease (a dispatcher sends during the first half of it only, each send bounded by the
    SMTP timeout), while another process can take a row only once that lease has run out.
    What a test waits for instead of "a while" when it asserts that no duplicate comes."""
    await eventually(
        lambda: all(row.sent for row in reader.outbox()),
        within=within,
        what="every e-mail in the outbox sent",
    )
