"""wrk, the load generator of the benchmarks, driven through the Lua scripts of bench/wrk/.

Each script's ``done()`` hook (bench/wrk/common.lua) prints one ``WRK_JSON {...}`` line:
requests, duration, latency percentiles, the count of every HTTP status, socket errors.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

WRK_DIR = Path(__file__).parent / "wrk"
SCRIPTS = {
    "register": "register.lua",
    "login": "login.lua",
    "me": "get.lua",
    "introspect": "introspect.lua",
}


def command(
    base_url: str, script: str, args: list[str], connections: int, seconds: int
) -> list[str]:
    """wrk with one thread per core (at most one per connection) and ``script``'s
    arguments: register.lua <path> <e-mail prefix> <password>; login.lua <path>
    <password> <e-mail>...; get.lua <path> [<bearer token>]; introspect.lua <path>
    <Authorization header> <form body>."""
    threads = min(connections, os.cpu_count() or 1)
    return [
        *("wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"),
        *("-s", str(WRK_DIR / script), base_url, "--", *args),
    ]


def wrk(base_url: str, endpoint: str, args: list[str], connections: int, seconds: int) -> dict:
    """Run wrk on ``endpoint`` (a key of SCRIPTS) and return its figures."""
    run = [base_url, SCRIPTS[endpoint], args, connections, seconds]
    output = subprocess.run(command(*run), capture_output=True, text=True, check=True).stdout
    return parse(output, connections)


def parse(output: str, connections: int) -> dict[str, Any]:
    """Throughput counts 2xx answers only; every other status and socket error is an error."""
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    ok = sum(count for status, count in raw["statuses"].items() if status.startswith("2"))
    return {
        "connections": connections,
        "rps": ok / (raw["duration_us"] / 1e6),
        "requests": raw["requests"],
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "statuses": raw["statuses"],
        "socket_errors": raw["socket_errors"],
        "errors": raw["requests"] - ok + sum(raw["socket_errors"].values()),
    }
