"""The e2e tier: the real `neodyme serve` process, started once per session (per xdist
worker) on a free port, against a scratch PostgreSQL database migrated by the real
`neodyme db upgrade`, sending its e-mails to a real SMTP server (aiosmtpd) in this process.

Nothing is skipped: if PostgreSQL, the migration or the server does not come up, the
session errors with the reason and the server's log. A failing test's report carries the
server log lines written while it ran.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tests.e2e.api import NEODYME, Api, Cli, Database, Mailbox
from tests.support.postgres import drop_database, resolve_postgres_url, scratch_database
from tests.support.smtp import SmtpSink

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
POLL_INTERVAL = 0.05
LOG_TAIL_LINES = 60
PUBLIC_URL = "https://app.neodyme.test"
"""Where the e-mailed reset and verification links point (the client app, not this server)."""


@dataclass(frozen=True, slots=True)
class Server:
    base_url: str
    env: dict[str, str]
    workdir: Path
    log_path: Path

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, since: int = 0, lines: int = LOG_TAIL_LINES) -> str:
        if not self.log_path.exists():
            return "(no server log)"
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        tail = text.splitlines()[-lines:]
        return "\n".join(tail) if tail else "(nothing logged)"


SERVER = pytest.StashKey[Server]()
LOG_MARK = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    server = item.config.stash.get(SERVER, None)
    if report.failed and server is not None:
        since = item.stash.get(LOG_MARK, 0)
        report.sections.append(("neodyme server log during this test", server.log_tail(since)))
    return report


@pytest.fixture(autouse=True)
def _mark_server_log(request: pytest.FixtureRequest) -> None:
    server = request.config.stash.get(SERVER, None)
    request.node.stash[LOG_MARK] = server.log_size() if server is not None else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
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
def database(database_url: str) -> Iterator[Database]:
    engine = create_engine(database_url, poolclass=NullPool)
    yield Database(engine)
    engine.dispose()


def _server_env(database_url: str, sink: SmtpSink) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEODYME_")}
    env.update(
        PYTHONUNBUFFERED="1",
        NEODYME_ENVIRONMENT="testing",
        NEODYME_DATABASE_URL=database_url,
        NEODYME_SECRET_KEY=secrets.token_urlsafe(48),
        NEODYME_SMTP_HOST=sink.host,
        NEODYME_SMTP_PORT=str(sink.port),
        NEODYME_SMTP_TLS="none",
        NEODYME_EMAIL_FROM="no-reply@neodyme.test",
        NEODYME_PUBLIC_URL=PUBLIC_URL,
        NEODYME_ARGON2_MEMORY_KIB="64",
        NEODYME_ARGON2_TIME_COST="1",
        NEODYME_OUTBOX_POLL_SECONDS="0.5",
        NEODYME_LOG_LEVEL="INFO",
    )
    return env


def _migrate(env: dict[str, str], workdir: Path) -> None:
    done = subprocess.run(
        [NEODYME, "db", "upgrade"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"`neodyme db upgrade` exited {done.returncode}\n"
            f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}",
            pytrace=False,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_healthy(process: subprocess.Popen[bytes], server: Server) -> str | None:
    """None once GET /health answers 200, else why the server is not coming up."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(base_url=server.base_url, timeout=1.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return f"exited with code {process.returncode} before answering /health"
            try:
                if client.get("/health").status_code == 200:
                    return None
            except httpx.TransportError:
                pass
            time.sleep(POLL_INTERVAL)
    return f"did not answer GET /health with 200 within {STARTUP_TIMEOUT}s"


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    smtp_sink: SmtpSink,
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("neodyme-server")
    env = _server_env(database_url, smtp_sink)
    _migrate(env, workdir)

    for attempt in range(3):  # another process may take the free port before we bind it
        port = _free_port()
        candidate = Server(
            base_url=f"http://127.0.0.1:{port}",
            env=env,
            workdir=workdir,
            log_path=workdir / f"server-{attempt}.log",
        )
        with candidate.log_path.open("wb") as log:
            process = subprocess.Popen(
                [NEODYME, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        problem = _wait_until_healthy(process, candidate)
        if problem is None:
            break
        _stop(process)
        failure = f"`neodyme serve` {problem}; its log:\n{candidate.log_tail()}"
        if "address already in use" not in candidate.log_tail().lower():
            pytest.fail(failure, pytrace=False)
    else:
        pytest.fail(failure, pytrace=False)

    request.config.stash[SERVER] = candidate
    try:
        yield candidate
    finally:
        del request.config.stash[SERVER]
        _stop(process)
        if request.session.testsfailed:
            _report_log_tail(request.config, candidate)


def _report_log_tail(config: pytest.Config, server: Server) -> None:
    """Straight to the terminal: teardown output is otherwise shown only if teardown fails."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_sep("-", f"neodyme server log, last {LOG_TAIL_LINES} lines")
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
async def api(server: Server, tls_context: ssl.SSLContext) -> AsyncIterator[Api]:
    # trust_env=False: a proxy configured in the environment must not sit in between.
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=30, verify=tls_context, trust_env=False
    ) as client:
        yield Api(client)
