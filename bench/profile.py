"""Where a neodyme server's CPU goes on one endpoint: py-spy samples it under wrk load.

Starts neodyme (PostgreSQL scratch database, else SQLite), registers the login accounts,
drives ``--endpoint`` with wrk and meanwhile samples the server's worker process with
py-spy (non-blocking, idle frames left out: threads waiting for I/O are not counted). Prints the
CPU each part used per request (read from /proc: the worker's event-loop thread, its other
threads, PostgreSQL), then the share of py-spy's samples per layer (the package of the
innermost frame that is not the standard library) and the functions with the largest
inclusive share on the event-loop thread. Samples count a thread that is runnable but
waiting for a core too: on a saturated machine they show where the thread waits for the
CPU as well as where it uses it, so the /proc figures are the ones to add up.

    .venv/bin/python -m bench.profile --endpoint me [--seconds 10] [--connections 16]

The closing notes of the performance work quote its output.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from bench.load import wrk
from bench.run import NEODYME_PATHS, fresh, neodyme_arguments
from bench.server import BIN, children, postgres_database, running_server, stat_cpu_seconds

LAYERS = (
    "argon2",
    "jwt",
    "msgspec",
    "litestar",
    "granian",
    "sqlalchemy",
    "psycopg",
    "aiosqlite",
    "neodyme_domain",
    "neodyme_adapters",
    "neodyme_app",
)


def layer_of(frame: str) -> str | None:
    """The layer a folded-stack frame ("function (path:line)") belongs to, or None for the
    standard library and anything unknown."""
    path = "/" + frame.rsplit("(", 1)[-1]
    for name in (*LAYERS, "asyncio"):
        if f"/{name}/" in path or f"/{name}." in path:
            return name
    return None


def thread_cpu(worker: int) -> dict[str, float]:
    """CPU seconds so far of the worker's event-loop thread, of its other threads (hashing,
    the server's I/O runtime) and of every PostgreSQL process on the machine."""
    used = {"event-loop thread": 0.0, "other threads of the worker": 0.0, "PostgreSQL": 0.0}
    for task in Path(f"/proc/{worker}/task").iterdir():
        kind = "event-loop thread" if task.name == str(worker) else "other threads of the worker"
        used[kind] += stat_cpu_seconds(task / "stat")
    for process in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if process.name.isdigit() and (process / "comm").read_text().strip() == "postgres":
                used["PostgreSQL"] += stat_cpu_seconds(process / "stat")
    return used


def summarise(folded: str, top: int) -> str:
    """Shares of a py-spy ``--format raw`` profile (one "frame;frame;... count" per line)."""
    by_layer: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    loop_samples = 0
    total = 0
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        known = [layer for layer in map(layer_of, frames) if layer is not None]
        by_layer[known[-1] if known else "other (stdlib, threads)"] += count
        if frames[0].endswith(": MainThread"):  # the event loop's; hashing has its own
            loop_samples += count
            for function in {_function(frame) for frame in frames[1:] if _is_work(frame)}:
                by_function[function] += count
    lines = [f"{total} samples; event-loop thread {loop_samples} ({_pct(loop_samples, total)})"]
    lines.append("by layer (innermost known frame):")
    lines += [f"  {_pct(n, total):>6}  {name}" for name, n in by_layer.most_common()]
    lines.append(f"event-loop thread, inclusive, top {top}:")
    lines += [f"  {_pct(n, loop_samples):>6}  {name}" for name, n in by_function.most_common(top)]
    return "\n".join(lines)


def _is_work(frame: str) -> bool:
    """False for the frames under every sample: the process start-up and granian's loop."""
    return not any(part in frame for part in _START_UP)


_START_UP = ("(granian/", "(multiprocessing/", "(neodyme_app/cli.py", "<module>")


def _function(frame: str) -> str:
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({path})"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / max(1, whole):.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=sorted(NEODYME_PATHS), default="me")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sqlite", action="store_true", help="SQLite even if PostgreSQL answers")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a NEODYME_ setting for the server, without the prefix (DB_POOL_SIZE=5)",
    )
    parser.add_argument(
        "--cheap-hash",
        action="store_true",
        help="argon2 with 8 KiB and one pass: what is left is neodyme's own work",
    )
    options = parser.parse_args()

    with contextlib.ExitStack() as stack:
        url = None if options.sqlite else stack.enter_context(postgres_database("neodyme_prof"))
        settings = {"ACCESS_TOKEN_TTL": "7200"} | ({"DATABASE_URL": url} if url else {})
        if options.cheap_hash:
            settings |= {"ARGON2_MEMORY_KIB": "8", "ARGON2_TIME_COST": "1"}
        settings |= dict(setting.split("=", 1) for setting in options.set)
        server = stack.enter_context(running_server(workers=1, **settings))
        arguments = fresh(options.endpoint, neodyme_arguments(server)[options.endpoint])
        worker = children(server.pid)[0]  # granian's one worker process runs the app
        folded = Path(tempfile.mkdtemp(prefix="neodyme-prof-")) / "profile.txt"
        spy = subprocess.Popen(
            [
                *(str(BIN / "py-spy"), "record", "--pid", str(worker), "--nonblocking"),
                *("--threads", "--format", "raw", "--output", str(folded)),
                *("--duration", str(options.seconds), "--rate", "200"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        load = (options.endpoint, arguments, options.connections, options.seconds)
        before = thread_cpu(worker)
        cell = wrk(server.base_url, *load)
        used = {name: cpu - before.get(name, 0.0) for name, cpu in thread_cpu(worker).items()}
        spy.wait(timeout=options.seconds + 30)
        print(
            f"{options.endpoint} on {'PostgreSQL' if url else 'SQLite'}, {options.connections}"
            f" connections: {cell['rps']:.1f} req/s, statuses {cell['statuses']}"
        )
        print("CPU per request (from /proc, not sampled):")
        for name, seconds in sorted(used.items(), key=lambda item: -item[1]):
            print(f"  {seconds * 1000 / max(1, cell['requests']):7.3f} ms  {name}")
        print(summarise(folded.read_text(), options.top))


if __name__ == "__main__":
    main()
