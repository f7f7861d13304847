"""The real ``neodyme serve`` process, for the e2e tier: environment, migration, start,
stop, crash and restart.

The session fixture of ``tests/e2e/conftest.py`` runs one of these for most tests; the
fault tests (database and SMTP outages, crashes, several servers) start their own::

    env = server_env(database_url, sink.host, sink.port, outbox_poll_seconds="0.2")
    migrate(env, workdir)
    with start_server(env, workdir, workers=2) as server:
        httpx.get(server.base_url + "/health")
        server.kill()      # SIGKILL, every process of the server at once
        server.start()     # again, on the same port

The server runs in a process group of its own, so that ``kill()`` takes its worker
processes down with it (a crash of the whole machine, as far as the server can tell) and
nothing outlives the test. Its output goes to one log file, appended across restarts.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Self

import httpx
import pytest

from tests.support.started import Started

__all__ = [
    "NEODYME",
    "PUBLIC_URL",
    "ServerProcess",
    "free_port",
    "log_tail",
    "migrate",
    "server_env",
    "start_server",
]

NEODYME = Path(sys.executable).parent / "neodyme"
PUBLIC_URL = "https://app.neodyme.test"
"""Where the e-mailed reset and verification links point (the client app, not this server)."""

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
POLL_INTERVAL = 0.05
LOG_TAIL_LINES = 60
PORT_ATTEMPTS = 3


def free_port() -> int:
    """A port nobody listens on right now (another process may take it before we do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(
    database_url: str, smtp_host: str, smtp_port: int, **overrides: str
) -> dict[str, str]:
    """This process's environment without any ``NEODYME_*`` variable, plus the settings of
    a test server: cheap hashing, a fresh secret, plain SMTP to ``smtp_host:smtp_port``.

    ``overrides`` are settings by field name (``outbox_poll_seconds="0.2"`` sets
    ``NEODYME_OUTBOX_POLL_SECONDS``).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEODYME_")}
    env.update(
        PYTHONUNBUFFERED="1",
        NEODYME_ENVIRONMENT="testing",
        NEODYME_DATABASE_URL=database_url,
        NEODYME_SECRET_KEY=secrets.token_urlsafe(48),
        NEODYME_SMTP_HOST=smtp_host,
        NEODYME_SMTP_PORT=str(smtp_port),
        NEODYME_SMTP_TLS="none",
        NEODYME_EMAIL_FROM="no-reply@neodyme.test",
        NEODYME_PUBLIC_URL=PUBLIC_URL,
        NEODYME_ARGON2_MEMORY_KIB="64",
        NEODYME_ARGON2_TIME_COST="1",
        NEODYME_OUTBOX_POLL_SECONDS="0.5",
        NEODYME_LOG_LEVEL="INFO",
    )
    env.update({f"NEODYME_{name.upper()}": value for name, value in overrides.items()})
    return env


def migrate(env: Mapping[str, str], workdir: Path) -> None:
    """``neodyme db upgrade`` with ``env``; fails the test (with its output) if it fails."""
    done = subprocess.run(
        [NEODYME, "db", "upgrade"],
        env=dict(env),
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


def log_tail(path: Path, since: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines written to ``path`` after byte offset ``since``."""
    if not path.exists():
        return "(no server log)"
    with path.open("rb") as log:
        log.seek(since)
        text = log.read().decode(errors="replace")
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(nothing logged)"


class ServerProcess(Started):
    """One ``neodyme serve`` (with ``workers`` worker processes) on 127.0.0.1.

    ``port=None`` picks a free port at the first start (retrying if another process takes
    it first); later starts reuse it, so clients and base URLs stay valid across a restart.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        workdir: Path,
        *,
        workers: int = 1,
        port: int | None = None,
        name: str = "server",
    ) -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.workers = workers
        self.port = port
        self.log_path = workdir / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the server has not been started yet")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, since: int = 0, lines: int = LOG_TAIL_LINES) -> str:
        return log_tail(self.log_path, since, lines)

    # lifecycle

    def start(self) -> Self:
        """Start the server and wait until GET /health answers 200; fail the test (with the
        server's log) if it does not come up."""
        if self.running():
            raise RuntimeError("the server is already running")
        pinned = self.port is not None
        failure = ""
        for _ in range(1 if pinned else PORT_ATTEMPTS):
            port = self.port if self.port is not None else free_port()
            mark = self.log_size()
            problem = self._launch(port)
            if problem is None:
                self.port = port
                return self
            self._terminate()
            tail = self.log_tail(mark)
            failure = f"`neodyme serve` on port {port} {problem}; its log:\n{tail}"
            if "address already in use" not in tail.lower():
                break
        pytest.fail(failure, pytrace=False)

    def _launch(self, port: int) -> str | None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    NEODYME,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(self.workers),
                ],
                env=self.env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches the workers
            )
        return self._wait_until_healthy(self._process, f"http://127.0.0.1:{port}")

    @staticmethod
    def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str) -> str | None:
        """None once GET /health answers 200, else why the server is not coming up."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with httpx.Client(base_url=base_url, timeout=1.0, trust_env=False) as client:
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

    def kill(self) -> None:
        """SIGKILL to every process of the server: no shutdown hook runs."""
        if self._process is None:
            return
        self._signal_group(signal.SIGKILL)
        self._process.wait()

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL if it takes over STOP_TIMEOUT seconds."""
        self._terminate()

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def _terminate(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._signal_group(signal.SIGKILL)  # any worker the main process left behind

    def _signal_group(self, signum: signal.Signals) -> None:
        if self._process is None:
            return
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)


@contextmanager
def start_server(
    env: Mapping[str, str],
    workdir: Path,
    *,
    workers: int = 1,
    port: int | None = None,
    name: str = "server",
) -> Iterator[ServerProcess]:
    """A started server, stopped when the block ends (however it ends)."""
    server = ServerProcess(env, workdir, workers=workers, port=port, name=name)
    try:
        yield server.start()
    finally:
        server.stop()
