"""Start a real `neodyme serve` for a benchmark: free port, SQLite in a temp dir (or a
given database URL), migrated, logs to a file, stopped at the end."""

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

NEODYME = str(Path(sys.executable).parent / "neodyme")


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
    """``settings`` are NEODYME_* values without the prefix, e.g. ``ARGON2_MEMORY_KIB="64"``."""
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
        log_path = Path(workdir) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [NEODYME, "serve", "--port", str(port), "--workers", str(workers)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base_url, process)
            yield RunningServer(base_url, process.pid, log_path)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"neodyme serve exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("neodyme serve did not become healthy in 30 s")


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children (server workers)."""
    total = 0
    for proc in [pid, *_children(pid)]:
        with contextlib.suppress(FileNotFoundError):
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found + [grandchild for child in found for grandchild in _children(child)]
