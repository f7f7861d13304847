"""Servers for the benchmarks: a real `neodyme serve` on a free port (SQLite in a temp dir,
or a given database URL such as a scratch PostgreSQL database), a bare reference app under
granian (like neodyme's own: same options), and what a server and its worker processes
use: resident memory, CPU time."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

BIN = Path(sys.executable).parent
NEODYME = str(BIN / "neodyme")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True)
class RunningServer:
    base_url: str
    pid: int
    log_path: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_server(workers: int = 1, **settings: str) -> Iterator[RunningServer]:
    """``settings`` are NEODYME_* values without the prefix, e.g. ``ARGON2_MEMORY_KIB="64"``
    or ``DATABASE_URL=...`` (default: SQLite in a temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="neodyme-bench-") as workdir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEODYME_")}
        env |= {
            "NEODYME_ENVIRONMENT": "testing",
            "NEODYME_SECRET_KEY": secrets.token_urlsafe(48),
            "NEODYME_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
            "NEODYME_LOG_LEVEL": "WARNING",
        }
        env |= {f"NEODYME_{key}": value for key, value in settings.items()}
        subprocess.run([NEODYME, "db", "upgrade"], env=env, check=True, capture_output=True)
        port = free_port()
        command = [NEODYME, "serve", "--port", str(port), "--workers", str(workers)]
        with _serving(command, env, port, Path(workdir)) as server:
            yield server


@contextlib.contextmanager
def running_reference(factory: str, workers: int = 1) -> Iterator[RunningServer]:
    """A bare app of bench/reference_apps.py (``factory``, e.g. ``"argon2_app"``) served by
    granian like neodyme: ASGI, same worker count."""
    with tempfile.TemporaryDirectory(prefix="neodyme-bench-ref-") as workdir:
        port = free_port()
        command = [
            str(BIN / "granian"),
            *("--interface", "asgi", "--factory", "--log-level", "warning"),
            *("--port", str(port), "--workers", str(workers)),
            f"bench.reference_apps:{factory}",
        ]
        env = os.environ | {"PYTHONPATH": str(ROOT), "BENCH_SERVER_WORKERS": str(workers)}
        with _serving(command, env, port, Path(workdir)) as server:
            yield server


@contextlib.contextmanager
def _serving(
    command: list[str], env: dict[str, str], port: int, workdir: Path
) -> Iterator[RunningServer]:
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, process, log_path)
        yield RunningServer(base_url, process.pid, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args!r} exited with {process.returncode}:\n{log_path.read_text()}"
            )
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{process.args!r} did not become healthy in 30 s")


@contextlib.contextmanager
def postgres_database(name: str = "neodyme_bench") -> Iterator[str | None]:
    """A database for a benchmark: ``NEODYME_BENCH_DATABASE_URL`` if set (used as is), else
    a scratch database ``name`` created on the development server and dropped at the end;
    None (nothing raised) when no server answers there."""
    if url := os.environ.get("NEODYME_BENCH_DATABASE_URL"):
        yield url
        return
    server = _conninfo(DEFAULT_POSTGRES)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=2) as connection:
            connection.execute(drop)
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError:
        yield None
        return
    try:
        yield make_url(DEFAULT_POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(drop)


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def wait_idle(pid: int, timeout: float = 30) -> None:
    """Until a server (and its workers) is idle: below 10% of a core over 250 ms. A load
    generator that stops leaves requests queued (hashes, above all): they must not be
    worked off during the next measurement."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu_seconds(pid)
        if now - before < 0.1 * 0.25:
            return
        before = now


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by a process and its children (workers)."""
    return sum(stat_cpu_seconds(Path(f"/proc/{proc}/stat")) for proc in [pid, *children(pid)])


def stat_cpu_seconds(stat: Path) -> float:
    """The CPU time (user and system) in a /proc stat file of a process or thread; 0 for
    one that has gone."""
    with contextlib.suppress(OSError):
        # utime and stime: fields 14 and 15, counted after the parenthesised name
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def rss_mib(pid: int) -> float:
    """Resident memory now (VmRSS) of a process and its children (server workers)."""
    return _status_mib(pid, "VmRSS:")


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children (server workers)."""
    return _status_mib(pid, "VmHWM:")


def reset_peak_rss(pid: int) -> None:
    """Start VmHWM afresh from the current RSS (Linux: write 5 to clear_refs)."""
    for proc in [pid, *children(pid)]:
        with contextlib.suppress(OSError):
            Path(f"/proc/{proc}/clear_refs").write_text("5")


def _status_mib(pid: int, field: str) -> float:
    total = 0
    for proc in [pid, *children(pid)]:
        with contextlib.suppress(FileNotFoundError):
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1])
    return total / 1024


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found + [grandchild for child in found for grandchild in children(child)]
