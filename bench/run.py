"""`make bench`: neodyme (SQLite, PostgreSQL) beside bare reference apps, one table.

Starts, each on a free port and under granian with the same worker count: neodyme on
SQLite, neodyme on a scratch PostgreSQL database (created and dropped; left out with a
note if no server answers), neodyme on SQLite with EdDSA access tokens and an
introspection client, a bare Litestar argon2 endpoint and a bare Litestar JSON endpoint
(bench/reference_apps.py). Each fresh neodyme (HS256) first gives its RSS growth over
1000 registrations and its peak RSS during 200 concurrent logins. Then wrk
(bench/wrk/*.lua) drives each endpoint at each concurrency, neodyme and its reference
back to back; then GET /health is probed while registrations saturate the hasher
(bench/overload.py); last, `make test` is timed. Prints one table (bench/report.py),
writes bench/results/latest.json, draws docs/bench.png, appends the run's ratios and
figures to the committed bench/history.jsonl (bench/history.py; --no-history for a try)
and draws their trend, docs/bench-history.png.

    .venv/bin/python -m bench.run [--seconds 8] [--connections 16,64] [--skip-make-test]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench import history, overload, report
from bench.load import SCRIPTS, wrk
from bench.report import NEODYME, TOKENS
from bench.server import (
    ROOT,
    RunningServer,
    cpu_seconds,
    postgres_database,
    rss_mib,
    running_reference,
    running_server,
    wait_idle,
)

PASSWORD = "Bench-Password-1!"
POOL_SIZE = 16  # accounts that the login cells log in, in turn

# What each endpoint is on neodyme and on the reference apps.
NEODYME_PATHS = {
    "register": "/api/v1/auth/register",
    "login": "/api/v1/auth/login",
    "me": "/api/v1/auth/me",
    "introspect": "/api/v1/auth/introspect",
}
REFERENCE_PATHS = {
    "register": "/register",
    "login": "/login",
    "me": "/me",
    "introspect": "/introspect",
}
INTROSPECTION_CLIENT = "bench"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Target:
    """A started server and the wrk script arguments of each endpoint it is measured on."""

    label: str
    server: RunningServer
    arguments: dict[str, list[str]]
    result: dict[str, Any] = field(default_factory=dict)


def run_cells(targets: dict[str, Target], options: argparse.Namespace) -> None:
    """Every endpoint at each concurrency on each server that has it, interleaved: neodyme
    and its reference run back to back, so that other work on the machine (which drifts)
    weighs on both alike. Each server's endpoint gets a warm-up run first."""
    for endpoint in SCRIPTS:
        measured = [t for t in targets.values() if endpoint in t.arguments]
        for target in measured:
            args = fresh(endpoint, target.arguments[endpoint])
            if options.warmup > 0:
                wrk(target.server.base_url, endpoint, args, options.connections[0], options.warmup)
                wait_idle(target.server.pid)
        for count in options.connections:
            for target in measured:
                args = fresh(endpoint, target.arguments[endpoint])
                cpu = cpu_seconds(target.server.pid)
                cell = wrk(target.server.base_url, endpoint, args, count, options.seconds)
                cpu = cpu_seconds(target.server.pid) - cpu
                cell["cpu_ms_per_request"] = cpu * 1000 / max(1, cell["requests"])
                wait_idle(target.server.pid)
                target.result.setdefault("cells", {}).setdefault(endpoint, {})[str(count)] = cell
                bad = (
                    f"  ERRORS {cell['statuses']} {cell['socket_errors']}" if cell["errors"] else ""
                )
                print(
                    f"  {endpoint:10} c={count:<3} {target.label:20} {cell['rps']:9.1f} req/s"
                    f"  p50 {cell['p50_ms']:7.1f} ms  p99 {cell['p99_ms']:7.1f} ms"
                    f"  CPU {cell['cpu_ms_per_request']:6.2f} ms/request{bad}",
                    flush=True,
                )


def fresh(endpoint: str, args: list[str]) -> list[str]:
    """Registrations get a new e-mail prefix per wrk run: never a duplicate address."""
    return [args[0], uuid.uuid4().hex[:12], *args[2:]] if endpoint == "register" else args


async def register_accounts(base_url: str, emails: list[str], concurrency: int) -> Counter[int]:
    statuses: Counter[int] = Counter()
    queue = iter(emails)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def worker() -> None:
            for email in queue:
                body = {"email": email, "full_name": "Bench", "password": PASSWORD}
                response = await client.post(NEODYME_PATHS["register"], json=body)
                statuses[response.status_code] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def emails(count: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"bench-{run}-{i}@example.com" for i in range(count)]


def memory(server: RunningServer, registrations: int) -> dict:
    """RSS (server and workers) growth over ``registrations`` from a cold start, and from
    after the first tenth (by then the hasher's threads hold their argon2 memory), then
    peak RSS during 200 concurrent logins."""
    addresses = emails(registrations)
    first = registrations // 10
    cold = rss_mib(server.pid)
    statuses = asyncio.run(register_accounts(server.base_url, addresses[:first], 16))
    warm = rss_mib(server.pid)
    statuses += asyncio.run(register_accounts(server.base_url, addresses[first:], 16))
    after = rss_mib(server.pid)
    print(
        f"  RSS {cold:.0f} -> {warm:.0f} (after {first}) -> {after:.0f} MiB"
        f" over {registrations} registrations {dict(statuses)}"
    )
    logins = asyncio.run(overload.concurrent_logins(server.base_url, server.pid, 200))
    print(f"  peak RSS {logins['peak_rss_mib']:.0f} MiB during 200 logins {logins['statuses']}")
    return {
        "registrations": registrations,
        "registration_statuses": dict(statuses),
        "rss_before_mib": cold,
        "rss_warm_mib": warm,
        "warm_after": first,
        "rss_after_mib": after,
        "growth_mib": after - cold,
        "logins_200": logins,
    }


def start_neodyme(
    stack: contextlib.ExitStack, label: str, options: argparse.Namespace, **settings: str
) -> Target:
    """Start neodyme, measure its memory while it is fresh, then register the accounts
    that the login cells log in and get the /auth/me token."""
    print(f"{label}: starting", flush=True)
    settings |= {"ACCESS_TOKEN_TTL": "7200"}  # the /auth/me token outlives the run
    server = stack.enter_context(running_server(workers=options.workers, **settings))
    result = {"label": label, "memory": memory(server, options.registrations)}
    return Target(label, server, neodyme_arguments(server), result)


def neodyme_arguments(server: RunningServer) -> dict[str, list[str]]:
    """The wrk script arguments of each endpoint, after registering the login accounts and
    logging one in for its /auth/me token (an empty register prefix: see ``fresh``)."""
    pool = emails(POOL_SIZE)
    asyncio.run(register_accounts(server.base_url, pool, 4))
    login = httpx.post(
        server.base_url + NEODYME_PATHS["login"], json={"email": pool[0], "password": PASSWORD}
    )
    token = login.raise_for_status().json()["access_token"]
    return {
        "register": [NEODYME_PATHS["register"], "", PASSWORD],
        "login": [NEODYME_PATHS["login"], PASSWORD, *pool],
        "me": [NEODYME_PATHS["me"], token],
    }


def start_token_server(
    stack: contextlib.ExitStack, label: str, options: argparse.Namespace, **settings: str
) -> Target:
    """Start neodyme with asymmetric access tokens (EdDSA) and one introspection client,
    as a resource server meets it: GET /auth/me with an EdDSA token, and the same token
    introspected with the client's HTTP Basic credentials. No memory figures: the
    HS256 server gives them, and the signing algorithm changes nothing there."""
    print(f"{label}: starting", flush=True)
    secret = secrets.token_urlsafe(32)
    settings |= {
        "ACCESS_TOKEN_TTL": "7200",  # the token outlives the run
        "JWT_ALGORITHM": "EdDSA",
        "INTROSPECTION_CLIENTS": introspection_client(INTROSPECTION_CLIENT, secret),
    }
    server = stack.enter_context(running_server(workers=options.workers, **settings))
    return Target(label, server, token_arguments(server, secret), {"label": label})


def introspection_client(client_id: str, secret: str) -> str:
    """An entry of NEODYME_INTROSPECTION_CLIENTS, as `neodyme introspection new-client`
    prints it: the id and the SHA-256 hex digest of the secret."""
    return f"{client_id}:{hashlib.sha256(secret.encode()).hexdigest()}"


def basic_authorization(client_id: str, secret: str) -> str:
    """HTTP Basic credentials (each part form-urlencoded first, RFC 6749 section 2.3.1)."""
    pair = f"{urlencode({'': client_id})[1:]}:{urlencode({'': secret})[1:]}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def token_arguments(server: RunningServer, secret: str) -> dict[str, list[str]]:
    """The wrk script arguments of GET /auth/me and of introspection, after registering an
    account and logging it in for its access token; both are checked to answer 2xx (the
    token live, introspection with the client's credentials answering it active) before
    they are measured."""
    [email] = emails(1)
    asyncio.run(register_accounts(server.base_url, [email], 1))
    login = httpx.post(
        server.base_url + NEODYME_PATHS["login"], json={"email": email, "password": PASSWORD}
    )
    token = login.raise_for_status().json()["access_token"]
    authorization = basic_authorization(INTROSPECTION_CLIENT, secret)
    body = urlencode({"token": token})
    answer = httpx.post(
        server.base_url + NEODYME_PATHS["introspect"],
        content=body,
        headers={"Authorization": authorization, "Content-Type": FORM},
    )
    if not answer.raise_for_status().json().get("active"):
        raise RuntimeError(f"introspection of the bench token: {answer.text}")
    return {
        "me": [NEODYME_PATHS["me"], token],
        "introspect": [NEODYME_PATHS["introspect"], authorization, body],
    }


def start_reference(
    stack: contextlib.ExitStack,
    factory: str,
    label: str,
    options: argparse.Namespace,
    introspect_body: str = "",
) -> Target:
    """``introspect_body``: the form the neodyme introspection cells send, sent the same
    (the reference reads it, checks nothing), so that both parse as many bytes."""
    print(f"{label}: starting", flush=True)
    server = stack.enter_context(running_reference(factory, workers=options.workers))
    arguments = {
        "register": [REFERENCE_PATHS["register"], "", PASSWORD],
        "login": [REFERENCE_PATHS["login"], PASSWORD, *emails(POOL_SIZE)],
        "me": [REFERENCE_PATHS["me"], "not-checked"],
        "introspect": [
            REFERENCE_PATHS["introspect"],
            basic_authorization(INTROSPECTION_CLIENT, "not-checked"),
            introspect_body or urlencode({"token": "not.checked"}),
        ],
    }
    endpoints = ["me", "introspect"] if factory == "json_app" else ["register", "login"]
    return Target(label, server, {e: arguments[e] for e in endpoints}, {"label": label})


def health(target: Target, seconds: int) -> None:
    wait_idle(target.server.pid)
    probe = asyncio.run(overload.health_while_saturated(target.server.base_url, seconds + 2))
    print(
        f"  {target.label}: GET /health under a saturated hasher: p99 {probe['p99_ms']:.1f} ms"
        f" ({probe['probes']} probes, {probe['registrations_per_s']:.0f} registrations/s)"
    )
    target.result["health"] = probe


def make_test() -> dict:
    """Wall time of `make test` and of its unit tier (from the lines it prints)."""
    print("make test: running", flush=True)
    started = time.monotonic()
    done = subprocess.run(["make", "-C", str(ROOT), "test"], capture_output=True, text=True)
    wall = time.monotonic() - started
    output = done.stdout + done.stderr
    if done.returncode:
        print(output[-3000:])
    unit = re.search(r"== unit tier: (\d+) ms", output)
    print(f"  {wall:.1f} s, exit {done.returncode}")
    return {
        "wall_s": wall,
        "unit_s": int(unit.group(1)) / 1000 if unit else None,
        "exit": done.returncode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="per measured cell")
    parser.add_argument("--warmup", type=int, default=2, help="per endpoint, 0: none")
    parser.add_argument("--connections", default="16,64", help="comma-separated")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server processes (as serve)"
    )
    parser.add_argument("--registrations", type=int, default=1000, help="for RSS growth")
    parser.add_argument("--skip-make-test", action="store_true")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/results/latest.json")
    parser.add_argument("--chart", type=Path, default=ROOT / "docs/bench.png")
    parser.add_argument("--history", type=Path, default=history.HISTORY)
    parser.add_argument("--no-history", action="store_true", help="append nothing")
    parser.add_argument("--history-chart", type=Path, default=ROOT / "docs/bench-history.png")
    options = parser.parse_args()
    options.connections = [int(c) for c in options.connections.split(",")]
    if shutil.which("wrk") is None:
        sys.exit("bench/run.py needs wrk: apt-get install wrk (Debian/Ubuntu)")

    started = time.monotonic()
    commit, dirty = history.revision(ROOT)  # the code measured: as it is before the run
    results: dict[str, Any] = {"machine": report.machine(), "options": vars(options).copy()}
    with contextlib.ExitStack() as stack:
        targets = {"sqlite": start_neodyme(stack, "neodyme SQLite", options)}
        url = stack.enter_context(postgres_database("neodyme_bench_http"))
        if url is None:
            print("neodyme PostgreSQL: left out, no server answers at 127.0.0.1:5432")
        else:
            label = "neodyme PostgreSQL"
            targets["postgresql"] = start_neodyme(stack, label, options, DATABASE_URL=url)
        for key, label in TOKENS.items():
            targets[key] = start_token_server(stack, label, options)
        targets["argon2"] = start_reference(stack, "argon2_app", "bare argon2", options)
        bodies = [targets[key].arguments["introspect"][2] for key in TOKENS if key in targets]
        targets["json"] = start_reference(stack, "json_app", "bare JSON", options, *bodies[:1])
        run_cells(targets, options)
        for key in NEODYME:
            if key in targets:
                health(targets[key], options.seconds)
    results["servers"] = {key: target.result for key, target in targets.items()}
    results["make_test"] = None if options.skip_make_test else make_test()
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["bench_wall_s"] = time.monotonic() - started

    results["table"] = report.table(results)
    print()
    print(results["table"])
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    report.chart(results, options.chart)
    print(f"\nwrote {options.json} and {options.chart}")
    if not options.no_history:
        now = datetime.now(UTC)
        machine = history.machine_identity()
        record = history.entry(results, commit=commit, dirty=dirty, date=now, machine=machine)
        history.append(options.history, record)
        report.trend_chart(history.read(options.history), options.history_chart)
        print(f"appended the run to {options.history}, drew {options.history_chart}")


if __name__ == "__main__":
    main()
