"""The e2e tier: the real `neodyme serve` process, started once per session (per xdist
worker) on a free port, against a scratch PostgreSQL database migrated by the real
`neodyme db upgrade`, sending its e-mails to a real SMTP server (aiosmtpd) in this process.

A second session server runs on a SQLite file (the default backend) for the modules that
run on both databases: they take ``each_backend`` (tests/e2e/backends.py), which makes
their ``server``, ``database`` and ``cli`` that backend's.

Nothing is skipped: if PostgreSQL, the migration or the server does not come up, the
session errors with the reason and the server's log. A failing test's report carries the
lines each server wrote while it ran.
"""

from __future__ import annotations

import os
import secrets
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tests.e2e.api import Api, Cli, Database, Mailbox
from tests.e2e.secret_log import SecretLog, audited_run
from tests.support.postgres import drop_database, resolve_postgres_url, scratch_database
from tests.support.server import (
    LOG_TAIL_LINES,
    PUBLIC_URL,
    ServerProcess,
    log_tail,
    migrate,
    server_env,
)
from tests.support.smtp import SmtpSink

BACKENDS = ("postgres", "sqlite")
"""The databases neodyme runs on, as the e2e tier names them (test ids, fixture names)."""


@dataclass(frozen=True, slots=True)
class Server:
    base_url: str
    env: dict[str, str]
    workdir: Path
    log_path: Path
    backend: str = "postgres"

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, since: int = 0, lines: int = LOG_TAIL_LINES) -> str:
        return log_tail(self.log_path, since, lines)


@dataclass(frozen=True, slots=True)
class Backend:
    """One database's session server, with what reads its database and runs its CLI."""

    name: str
    server: Server
    database: Database
    cli: Cli


SERVERS = pytest.StashKey[dict[str, Server]]()
"""The session servers running, by backend."""
LOG_MARKS = pytest.StashKey[dict[str, int]]()


def pytest_configure(config: pytest.Config) -> None:
    """schemathesis's pytest plugin, which test_fuzzing.py needs, for this tier only: plugins
    are not autoloaded (pyproject.toml's addopts), and the other tiers need not import it."""
    from schemathesis.pytest import plugin

    if not config.pluginmanager.is_registered(plugin):  # autoloaded after all
        config.pluginmanager.register(plugin, "schemathesis")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if report.failed:
        marks = item.stash.get(LOG_MARKS, {})
        for backend, server in item.config.stash.get(SERVERS, {}).items():
            since = marks.get(backend, 0)
            if server.log_size() > since:
                title = f"neodyme server log ({backend}) during this test"
                report.sections.append((title, server.log_tail(since)))
    return report


@pytest.fixture(autouse=True)
def _mark_server_log(request: pytest.FixtureRequest) -> None:
    servers = request.config.stash.get(SERVERS, {})
    request.node.stash[LOG_MARKS] = {name: s.log_size() for name, s in servers.items()}


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    # With a login, so that the run has an SMTP password for the log audit to look for. Not
    # letters alone (the audit skips those, see secret_log.py): a bare token_urlsafe(18) is
    # all letters once in 150 runs.
    sink = SmtpSink(auth=("neodyme-e2e", f"smtp-{secrets.token_urlsafe(18)}")).start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> Iterator[str]:
    """An empty PostgreSQL database of this session's own, dropped at the end. The process
    id keeps two runs on one machine (and one server) out of each other's way."""
    base_url = resolve_postgres_url()
    name = f"neodyme_e2e_{worker_id}_{os.getpid()}"
    yield scratch_database(base_url, name)
    drop_database(base_url, name)


@pytest.fixture(scope="session")
def secret_log(database_url: str, smtp_sink: SmtpSink) -> Iterator[SecretLog]:
    """Every secret of the run; at the end the server log is searched for each."""
    with audited_run(database_url, smtp_sink) as log:
        yield log


@pytest.fixture(scope="session")
def postgres_database(database_url: str) -> Iterator[Database]:
    engine = create_engine(database_url, poolclass=NullPool)
    yield Database(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def database(postgres_database: Database) -> Database:
    """The PostgreSQL session server's database, read-only (``server``'s)."""
    return postgres_database


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('neodyme-sqlite') / 'neodyme.db'}"


@pytest.fixture(scope="session")
def sqlite_database(sqlite_server: Server, sqlite_database_url: str) -> Iterator[Database]:
    """The SQLite session server's database file, read-only (once the server made it)."""
    engine = create_engine(sqlite_database_url.replace("+aiosqlite", ""), poolclass=NullPool)
    yield Database(engine)
    engine.dispose()


@contextmanager
def _serving(request: pytest.FixtureRequest, backend: str, database_url: str) -> Iterator[Server]:
    """A session server of ``backend`` on ``database_url``, sending to the session's SMTP
    sink, its log audited for secrets (``secret_log``, which outlives it)."""
    smtp_sink: SmtpSink = request.getfixturevalue("smtp_sink")
    secret_log: SecretLog = request.getfixturevalue("secret_log")
    workdir = request.getfixturevalue("tmp_path_factory").mktemp(f"neodyme-{backend}-server")
    assert smtp_sink.auth is not None
    user, password = smtp_sink.auth
    # JSON logs with the access log: the whole run's log is then audited in the format
    # production ships (secret_log.py), and test_structured_logs.py parses every line of
    # it. The fault tests' own servers keep the text format.
    env = server_env(
        database_url,
        smtp_sink.host,
        smtp_sink.port,
        smtp_username=user,
        smtp_password=password,
        log_format="json",
        access_log="on",
    )
    migrate(env, workdir)
    process = ServerProcess(env, workdir).start()
    running = Server(process.base_url, env, workdir, process.log_path, backend)
    secret_log.watch(running.log_path, env)
    request.config.stash.setdefault(SERVERS, {})[backend] = running
    try:
        yield running
    finally:
        del request.config.stash[SERVERS][backend]
        process.stop()
        if request.session.testsfailed:
            _report_log_tail(request.config, running)


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest, database_url: str) -> Iterator[Server]:
    with _serving(request, "postgres", database_url) as running:
        yield running


@pytest.fixture(scope="session")
def server(postgres_server: Server) -> Server:
    """The session server most tests talk to: on PostgreSQL."""
    return postgres_server


@pytest.fixture(scope="session")
def sqlite_server(request: pytest.FixtureRequest, sqlite_database_url: str) -> Iterator[Server]:
    with _serving(request, "sqlite", sqlite_database_url) as running:
        yield running


@pytest.fixture(params=BACKENDS)
def each_backend(request: pytest.FixtureRequest) -> Backend:
    """The test runs once per database, against that database's session server."""
    name = request.param
    server: Server = request.getfixturevalue(f"{name}_server")
    database: Database = request.getfixturevalue(f"{name}_database")
    return Backend(name, server, database, Cli(env=server.env, cwd=server.workdir))


def _report_log_tail(config: pytest.Config, server: Server) -> None:
    """Straight to the terminal: teardown output is otherwise shown only if teardown fails."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        title = f"neodyme server log ({server.backend}), last {LOG_TAIL_LINES} lines"
        reporter.write_sep("-", title)
        reporter.write_line(server.log_tail())


@pytest.fixture(scope="session")
def cli(server: Server) -> Cli:
    return Cli(env=server.env, cwd=server.workdir)


@pytest.fixture(scope="session")
def mailbox(smtp_sink: SmtpSink) -> Mailbox:
    return Mailbox(smtp_sink, PUBLIC_URL)


@pytest.fixture(scope="session")
def tls_context() -> ssl.SSLContext:
    """Built once: loading the CA bundle costs each new client ~40 ms (unused: plain HTTP)."""
    return ssl.create_default_context()


@pytest.fixture
async def api(
    server: Server, tls_context: ssl.SSLContext, secret_log: SecretLog
) -> AsyncIterator[Api]:
    # trust_env=False: a proxy configured in the environment must not sit in between.
    # The hooks tell the log audit (secret_log.py) every password and token exchanged.
    async with httpx.AsyncClient(
        base_url=server.base_url,
        timeout=30,
        verify=tls_context,
        trust_env=False,
        event_hooks=secret_log.hooks(),
    ) as client:
        yield Api(client)
