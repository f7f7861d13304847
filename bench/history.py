"""bench/history.jsonl: one line per `make bench` run, committed, so a slowdown shows as
a step in a trend (`python -m bench.report --history` draws it) rather than being noticed,
or not, by someone who remembers the last table.

A line holds the commit measured (and whether the tree had uncommitted changes), the
date, the machine, the ratios the table prints (neodyme's throughput over its bare
reference's: machine speed cancels out of them, so runs on different machines stay
comparable) and the raw figures behind them. Keys are sorted, so lines diff cleanly.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.report import NAMES, NEODYME, REFERENCE, TOKEN_NAMES, TOKENS

HISTORY = Path(__file__).parent / "history.jsonl"
ENDPOINTS = list(NAMES)
"""register, login, me: the order of the table, and of the trend chart's legend."""


def revision(root: Path) -> tuple[str, bool]:
    """The commit checked out and whether tracked files differ from it (untracked files,
    such as a scratch database, do not make a run dirty)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "HEAD") or "unknown"
    return commit, bool(git("status", "--porcelain", "--untracked-files=no"))


def machine_identity() -> dict[str, Any]:
    """What makes one machine's figures differ from another's."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_mib": _memory_mib(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    models = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return next(models, platform.processor())


def _memory_mib() -> int | None:
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return None
    total = next((line.split()[1] for line in lines if line.startswith("MemTotal:")), None)
    return None if total is None else int(total) // 1024


def ratio_name(endpoint: str, server: str, connections: int | str) -> str:
    """``login.postgresql.c16``: an endpoint, a neodyme backend, a concurrency."""
    return f"{endpoint}.{server}.c{connections}"


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Every ratio the table prints: neodyme's 2xx throughput over its reference's, per
    endpoint, backend and concurrency (a backend left out of the run is absent), then
    those of the tokens table (``me.sqlite_eddsa.c16``, ``introspect.sqlite_eddsa.c16``)."""
    servers = results["servers"]
    found = {}
    measured = [(endpoint, NEODYME) for endpoint in ENDPOINTS]
    measured += [(endpoint, TOKENS) for endpoint in TOKEN_NAMES]
    for endpoint, backends in measured:
        for server in backends:
            if server not in servers:
                continue
            reference = servers[REFERENCE[endpoint]]["cells"][endpoint]
            for count in results["options"]["connections"]:
                cell = servers[server]["cells"][endpoint][str(count)]
                base = reference[str(count)]["rps"]
                found[ratio_name(endpoint, server, count)] = round(cell["rps"] / base, 4)
    return found


def figures(results: dict[str, Any]) -> dict[str, float]:
    """The raw figures behind the ratios and the other rows of the table, flat: throughput,
    p50 and p99 and server CPU per request of every cell, GET /health p99 under a saturated
    hasher, RSS growth, and `make test` when it ran."""
    found: dict[str, float] = {}
    for server, result in results["servers"].items():
        for endpoint, cells in result.get("cells", {}).items():
            for count, cell in cells.items():
                name = ratio_name(endpoint, server, count)
                found[f"{name}.rps"] = round(cell["rps"], 1)
                found[f"{name}.p50_ms"] = round(cell["p50_ms"], 2)
                found[f"{name}.p99_ms"] = round(cell["p99_ms"], 2)
                found[f"{name}.cpu_ms"] = round(cell["cpu_ms_per_request"], 3)
                found[f"{name}.errors"] = cell["errors"]
        if "health" in result:
            found[f"health.{server}.p99_ms"] = round(result["health"]["p99_ms"], 2)
        if "memory" in result:
            found[f"memory.{server}.growth_mib"] = round(result["memory"]["growth_mib"], 1)
    tests = results.get("make_test")
    if tests is not None:
        found["make_test.wall_s"] = round(tests["wall_s"], 1)
        if tests["unit_s"] is not None:
            found["make_test.unit_s"] = round(tests["unit_s"], 1)
    return found


def entry(
    results: dict[str, Any],
    *,
    commit: str,
    dirty: bool,
    date: datetime,
    machine: dict[str, Any],
) -> dict[str, Any]:
    """One line of the history for the results of one bench/run.py run; ``machine`` is
    ``machine_identity()``, to which the run's wrk version and load averages are added."""
    run = results["machine"]
    options = results["options"]
    return {
        "commit": commit,
        "dirty": dirty,
        "date": date.isoformat(timespec="seconds"),
        "machine": {
            **machine,
            "wrk": run.get("wrk"),
            "load_average": [round(run["load_average_at_start"][0], 2), _end_load(run)],
        },
        "options": {key: options[key] for key in ("seconds", "warmup", "connections", "workers")},
        "ratios": ratios(results),
        "figures": figures(results),
    }


def _end_load(machine: dict[str, Any]) -> float | None:
    end = machine.get("load_average_at_end")
    return None if end is None else round(end[0], 2)


def line(record: dict[str, Any]) -> str:
    """A history line: sorted keys, no indentation, one newline."""
    return json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"


def append(path: Path, record: dict[str, Any]) -> None:
    """Add one line, leaving every earlier line as it was."""
    with path.open("a", encoding="utf-8") as history:
        history.write(line(record))


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(row) for row in text.splitlines() if row.strip()]


def _sort_key(name: str) -> tuple[int, int, int, str]:
    """The main table's ratios in its order, then the tokens table's in its, then others."""
    parts = name.split(".")
    count = int(parts[-1].removeprefix("c")) if parts[-1].removeprefix("c").isdigit() else 0
    if len(parts) == 3 and parts[0] in ENDPOINTS and parts[1] in NEODYME:
        return (ENDPOINTS.index(parts[0]), list(NEODYME).index(parts[1]), count, name)
    if len(parts) == 3 and parts[0] in TOKEN_NAMES and parts[1] in TOKENS:
        rank = len(ENDPOINTS) + list(TOKEN_NAMES).index(parts[0])
        return (rank, list(TOKENS).index(parts[1]), count, name)
    return (len(ENDPOINTS) + len(TOKEN_NAMES), 0, 0, name)


def series(entries: list[dict[str, Any]]) -> dict[str, list[float | None]]:
    """Each ratio over the runs, in the table's order (endpoint, backend, concurrency);
    None where a run did not measure it (PostgreSQL left out, other concurrencies)."""
    names = sorted({name for e in entries for name in e["ratios"]}, key=_sort_key)
    return {name: [e["ratios"].get(name) for e in entries] for name in names}


def run_label(record: dict[str, Any]) -> str:
    """The x-axis label of a run: its date and short commit, ``+`` if the tree was dirty,
    and the load average at its start and end."""
    label = f"{record['date'][:10]}\n{record['commit'][:7]}{'+' if record['dirty'] else ''}"
    loads = _loads(record)
    return label + ("\nload " + "-".join(f"{load:.1f}" for load in loads) if loads else "")


def busy(record: dict[str, Any]) -> bool:
    """Whether other work competed for the cores: a load average over one and a half times
    the cores at the run's start. Not at its end: the benchmark saturates the machine
    itself (a run on an idle 2-core machine went from 1.3 at its start to 5.2 at its end),
    so the end says little about neighbours. Such a run's ratios say more about the
    neighbours than about neodyme: the chart draws it hollow."""
    start = (record["machine"].get("load_average") or [None])[0]
    return start is not None and start > record["machine"]["cores"] * 1.5


def _loads(record: dict[str, Any]) -> list[float]:
    return [load for load in record["machine"].get("load_average", []) if load is not None]


def machine_changes(entries: list[dict[str, Any]]) -> list[int]:
    """The runs whose machine (CPU, cores, memory, Python) differs from the run before."""

    def identity(record: dict[str, Any]) -> tuple[Any, ...]:
        m = record["machine"]
        return (m.get("cpu"), m.get("cores"), m.get("memory_mib"), m.get("python"))

    return [i for i in range(1, len(entries)) if identity(entries[i]) != identity(entries[i - 1])]
