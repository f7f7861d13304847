"""The table and the chart of bench/run.py's results (a dict, also written as JSON), and
the trend chart of bench/history.jsonl:

    .venv/bin/python -m bench.report [--history]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

NEODYME = {"sqlite": "neodyme SQLite", "postgresql": "neodyme PostgreSQL"}
TOKENS = {"sqlite_eddsa": "neodyme SQLite EdDSA"}
"""neodyme as other services meet its tokens: NEODYME_JWT_ALGORITHM=EdDSA and an
introspection client; measured on TOKEN_NAMES only, in a table of its own."""
REFERENCE = {"register": "argon2", "login": "argon2", "me": "json", "introspect": "json"}
RATIO_TARGETS = {"register": 0.95, "login": 0.95, "me": 0.40}
NAMES = {"register": "registrations/s", "login": "logins/s", "me": "GET /auth/me req/s"}
TOKEN_NAMES = {"me": "GET /auth/me req/s", "introspect": "POST /auth/introspect req/s"}
MB_PER_MIB = 1.048576
LEGEND = {
    **{(key, "register"): "POST register" for key in ("sqlite", "postgresql", "argon2")},
    **{(key, "login"): "POST login" for key in ("sqlite", "postgresql", "argon2")},
    **{(key, "me"): "GET /auth/me" for key in ("sqlite", "postgresql")},
    ("json", "me"): "GET small JSON",
    ("sqlite_eddsa", "me"): "GET /auth/me, EdDSA token",
    ("sqlite_eddsa", "introspect"): "POST introspect, EdDSA token",
    ("json", "introspect"): "POST small form",
}


def machine() -> dict[str, Any]:
    version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    wrk = version.split(" Copyright")[0].removesuffix(" [epoll]")
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "wrk": wrk.strip(),
    }


def table(results: dict[str, Any]) -> str:
    """One Markdown table: every figure, its target and whether it holds."""
    servers = results["servers"]
    ours = [key for key in NEODYME if key in servers]
    rows: list[list[str]] = []

    def row(measure: str, values: dict[str, str], reference: str, target: str, fails: list[str]):
        holds = "-" if target == "-" else ("yes" if not fails else f"NO ({', '.join(fails)})")
        rows.append([measure, *(values.get(key, "-") for key in ours), reference, target, holds])

    for endpoint, name in NAMES.items():
        reference = servers[REFERENCE[endpoint]]
        for count in results["options"]["connections"]:
            base = reference["cells"][endpoint][str(count)]
            values, fails = {}, []
            for key in ours:
                cell = servers[key]["cells"][endpoint][str(count)]
                ratio = cell["rps"] / base["rps"]
                values[key] = f"{_rate(cell['rps'])} = {ratio:.2f}x{_flag(cell)}"
                if ratio < RATIO_TARGETS[endpoint]:
                    fails.append(NEODYME[key].removeprefix("neodyme "))
            target = f">= {RATIO_TARGETS[endpoint]:.2f}x {reference['label']}"
            ref = f"{_rate(base['rps'])} ({reference['label']}){_flag(base)}"
            row(f"{name}, {count} clients", values, ref, target, fails)
    for endpoint in NAMES:
        reference = servers[REFERENCE[endpoint]]
        for count in results["options"]["connections"]:
            values = {key: _latency(servers[key]["cells"][endpoint][str(count)]) for key in ours}
            ref = _latency(reference["cells"][endpoint][str(count)])
            row(f"{endpoint} p50 / p99, {count} clients", values, ref, "-", [])

    low = str(results["options"]["connections"][0])
    for endpoint in NAMES:
        cells = {key: servers[key]["cells"][endpoint][low] for key in ours}
        ref = servers[REFERENCE[endpoint]]["cells"][endpoint][low]["cpu_ms_per_request"]
        row(
            f"{endpoint}: server CPU per request, {low} clients",
            {key: f"{cell['cpu_ms_per_request']:.2f} ms" for key, cell in cells.items()},
            f"{ref:.2f} ms",
            "-",
            [],
        )

    health = {key: servers[key]["health"]["p99_ms"] for key in ours}
    row(
        "GET /health p99 while registrations saturate the hasher",
        {key: f"{value:.1f} ms" for key, value in health.items()},
        "",
        "< 20 ms",
        [_short(key) for key, value in health.items() if value >= 20],
    )
    memory = {key: servers[key]["memory"] for key in ours}
    count = results["options"]["registrations"]
    row(
        f"RSS growth over {count} registrations",
        {
            key: f"+{_mb(m['growth_mib'])} MB ({_mb(m['rss_before_mib'])} -> "
            f"{_mb(m['rss_after_mib'])}; +{_mb(m['rss_after_mib'] - m['rss_warm_mib'])} "
            f"after the first {m['warm_after']})"
            for key, m in memory.items()
        },
        "",
        "< 100 MB",
        [_short(key) for key, m in memory.items() if m["growth_mib"] * MB_PER_MIB >= 100],
    )
    row(
        "peak RSS, 200 concurrent logins",
        {
            key: f"{_mb(m['logins_200']['peak_rss_mib'])} MB "
            f"({_statuses(m['logins_200']['statuses'])})"
            for key, m in memory.items()
        },
        "",
        "-",
        [],
    )
    tests = results.get("make_test")
    first = ours[0]
    if tests is None:
        rows.append(["`make test` wall time", *["not measured"] * len(ours), "", "< 90 s", "-"])
        rows.append(["unit tier", *["not measured"] * len(ours), "", "< 5 s", "-"])
    else:
        failed = "" if tests["exit"] == 0 else f" (exit {tests['exit']})"
        row(
            "`make test` wall time",
            {first: f"{tests['wall_s']:.1f} s{failed}"},
            "",
            "< 90 s",
            [] if tests["wall_s"] < 90 and not failed else ["make test"],
        )
        unit = tests["unit_s"]
        row(
            "unit tier",
            {first: "?" if unit is None else f"{unit:.1f} s"},
            "",
            "< 5 s",
            [] if unit is not None and unit < 5 else ["unit tier"],
        )

    header = ["measure", *(NEODYME[key] for key in ours), "bare reference", "target", "holds"]
    lines = [_line(header), _line(["---"] * len(header)), *(_line(r) for r in rows)]
    for key in TOKENS:
        if key in servers:
            lines += ["", *token_table(results, key)]
    m, o = results["machine"], results["options"]
    note = (
        f"{m['cores']} cores ({m['cpu']}), {o['workers']} granian worker(s) per server, "
        f"{m['wrk']}: {o['seconds']:g} s per cell after a {o['warmup']:g} s warm-up, "
        f"load average {m['load_average_at_start'][0]:.2f} at start, "
        f"{m['load_average_at_end'][0]:.2f} at the end. Throughput counts 2xx "
        "answers only; (!) marks a run with non-2xx answers or socket errors. Server CPU: its "
        "processes' (a database server's excluded)."
    )
    return "\n".join([note, "", *lines])


def token_table(results: dict[str, Any], key: str) -> list[str]:
    """The lines of the table of one server of TOKENS: its throughput on each endpoint of
    TOKEN_NAMES as a ratio to the bare reference's, measured back to back in this run, and
    GET /auth/me's also as a ratio to neodyme SQLite's on HS256 tokens; then latencies and
    server CPU per request."""
    servers = results["servers"]
    ours = servers[key]
    counts = [str(count) for count in results["options"]["connections"]]
    hs256 = servers.get("sqlite", {}).get("cells", {}).get("me")
    rows: list[list[str]] = []
    for endpoint, name in TOKEN_NAMES.items():
        reference = servers[REFERENCE[endpoint]]
        for count in counts:
            cell, base = ours["cells"][endpoint][count], reference["cells"][endpoint][count]
            beside = "-"
            if endpoint == "me" and hs256:
                beside = f"{cell['rps'] / hs256[count]['rps']:.2f}x {NEODYME['sqlite']} (HS256)"
            rows.append(
                [
                    f"{name}, {count} clients",
                    f"{_rate(cell['rps'])} = {cell['rps'] / base['rps']:.2f}x{_flag(cell)}",
                    f"{_rate(base['rps'])} ({reference['label']}){_flag(base)}",
                    beside,
                ]
            )
    for endpoint in TOKEN_NAMES:
        reference = servers[REFERENCE[endpoint]]
        for count in counts:
            rows.append(
                [
                    f"{endpoint} p50 / p99, {count} clients",
                    _latency(ours["cells"][endpoint][count]),
                    _latency(reference["cells"][endpoint][count]),
                    "-",
                ]
            )
    for endpoint in TOKEN_NAMES:
        cell = ours["cells"][endpoint][counts[0]]
        base = servers[REFERENCE[endpoint]]["cells"][endpoint][counts[0]]
        rows.append(
            [
                f"{endpoint}: server CPU per request, {counts[0]} clients",
                f"{cell['cpu_ms_per_request']:.2f} ms",
                f"{base['cpu_ms_per_request']:.2f} ms",
                "-",
            ]
        )
    header = ["measure (tokens other services trust)", TOKENS[key], "bare reference", "beside"]
    note = (
        f"{TOKENS[key]}: NEODYME_JWT_ALGORITHM=EdDSA; GET /auth/me with an EdDSA access token;"
        " POST /auth/introspect (RFC 7662) of that token, HTTP Basic as an introspection"
        " client; bare JSON answers a GET, and a POST of the same form, checking nothing."
    )
    return [note, "", _line(header), _line(["---"] * len(header)), *(_line(r) for r in rows)]


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _short(key: str) -> str:
    return NEODYME[key].removeprefix("neodyme ")


def _rate(rps: float) -> str:
    return f"{rps:,.0f}/s" if rps >= 1000 else f"{rps:.1f}/s"


def _latency(cell: dict[str, Any]) -> str:
    return f"{cell['p50_ms']:.1f} / {cell['p99_ms']:.1f} ms{_flag(cell)}"


def _flag(cell: dict[str, Any]) -> str:
    if not cell["errors"]:
        return ""
    bad = {s: n for s, n in cell["statuses"].items() if not s.startswith("2")}
    bad |= {k: n for k, n in cell["socket_errors"].items() if n}
    return f" (!) {_statuses(bad)}"


def _statuses(statuses: dict[Any, int]) -> str:
    return ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))


def _mb(mib: float) -> str:
    return f"{mib * MB_PER_MIB:.0f}"


def _pyplot() -> Any:
    """matplotlib's pyplot, drawing to files only; imported when a chart is drawn, since
    matplotlib comes with the bench extra and the table needs none of it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def chart(results: dict[str, Any], path: Path) -> None:
    """Throughput and p99 latency against concurrency, neodyme beside the references."""
    plt = _pyplot()
    servers = results["servers"]
    counts = results["options"]["connections"]
    figure, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True)
    colours = {
        "sqlite": "tab:blue",
        "postgresql": "tab:orange",
        "sqlite_eddsa": "tab:green",
        "argon2": "black",
        "json": "black",
    }
    styles = {"register": "-", "login": "--", "me": "-", "introspect": "--"}
    panels = {0: ["register", "login"], 1: ["me", "introspect"]}
    for column, endpoints in panels.items():
        for key, server in servers.items():
            for endpoint in endpoints:
                cells = server["cells"].get(endpoint)
                if not cells:
                    continue
                label = f"{server['label']}: {LEGEND[key, endpoint]}"
                style = {"color": colours[key], "linestyle": styles[endpoint], "marker": "o"}
                rps = [cells[str(c)]["rps"] for c in counts]
                p99 = [cells[str(c)]["p99_ms"] for c in counts]
                axes[0][column].plot(counts, rps, label=label, **style)
                axes[1][column].plot(counts, p99, label=label, **style)
    axes[0][0].set_title("password hashing endpoints")
    axes[0][0].set_ylim(bottom=0)
    axes[1][0].set_ylim(bottom=0)
    axes[0][1].set_title("GET /auth/me (revocation check), introspection vs bare JSON")
    axes[0][1].set_yscale("log")
    axes[1][1].set_yscale("log")
    for column in (0, 1):
        axes[0][column].set_ylabel("requests/s (2xx)")
        axes[0][column].legend(fontsize=8)
        axes[1][column].set_ylabel("p99 latency, ms")
        axes[1][column].set_xlabel("concurrent clients (wrk connections)")
        axes[1][column].set_xscale("log", base=2)
        axes[1][column].set_xticks(counts, [str(c) for c in counts])
    m = results["machine"]
    figure.suptitle(
        f"neodyme beside bare Litestar references: {m['cores']} cores, "
        f"{results['options']['workers']} granian worker(s), wrk"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def trend_chart(entries: list[dict[str, Any]], path: Path) -> None:
    """Each ratio of bench/history.jsonl over the runs: one line per ratio, one panel for
    the hashing endpoints (against bare argon2) and one for GET /auth/me (against bare
    JSON), their targets dotted, a grey line where the machine changed, the runs of a busy
    machine hollow."""
    plt = _pyplot()
    from bench import history  # not at the top: bench.history reads this module's names

    ratios = history.series(entries)
    busy = [run for run, entry in enumerate(entries) if history.busy(entry)]
    runs = list(range(len(entries)))
    labels = [history.run_label(e) for e in entries]
    panels = {0: ["register", "login"], 1: ["me", "introspect"]}
    names = NAMES | TOKEN_NAMES
    servers = NEODYME | TOKENS
    figure, axes = plt.subplots(
        1, 2, figsize=(max(12.0, 1.1 * len(entries) + 6), 6.5), squeeze=False
    )
    colours = {
        ("register", "sqlite"): "tab:blue",
        ("register", "postgresql"): "tab:cyan",
        ("login", "sqlite"): "tab:orange",
        ("login", "postgresql"): "tab:red",
        ("me", "sqlite"): "tab:blue",
        ("me", "postgresql"): "tab:orange",
        ("me", "sqlite_eddsa"): "tab:green",
        ("introspect", "sqlite_eddsa"): "tab:olive",
    }
    # Concurrency by line style and marker shape: a single run still tells them apart.
    styles = [("-", "o"), ("--", "s"), ("-.", "^"), (":", "D")]
    for column, endpoints in panels.items():
        axis = axes[0][column]
        counts: list[str] = []
        highest = 0.0
        for name, values in ratios.items():
            parts = name.split(".")
            if len(parts) != 3 or parts[0] not in endpoints:
                continue  # a ratio of another shape: a later version's, not drawn here
            endpoint, server, count = parts
            if count not in counts:
                counts.append(count)
            line, marker = styles[counts.index(count) % len(styles)]
            points = [float("nan") if v is None else v for v in values]
            highest = max([highest, *(v for v in values if v is not None)])
            label = f"{names[endpoint]}, {servers.get(server, server).removeprefix('neodyme ')}, "
            label += f"{count.removeprefix('c')} clients"
            colour = colours.get((endpoint, server))
            axis.plot(runs, points, marker=marker, linestyle=line, color=colour, label=label)
            for run in busy:  # a white centre: hollow
                axis.plot(run, points[run], marker=marker, color="white", markersize=3)
        for target in dict.fromkeys(RATIO_TARGETS[e] for e in endpoints if e in RATIO_TARGETS):
            axis.axhline(target, color="grey", linestyle=":", linewidth=1)
        # Scaled to the figures, not to a target far above them (GET /auth/me's 0.40
        # would flatten its 0.06-0.09 into the axis): the title names the targets.
        axis.set_ylim(0, max(highest * 1.25, 0.05))
        axis.grid(axis="y", alpha=0.3)
        for change in history.machine_changes(entries):
            axis.axvline(change - 0.5, color="grey", linewidth=1)
        targets = ", ".join(
            f"{e} >= {RATIO_TARGETS[e]:.2f}" for e in endpoints if e in RATIO_TARGETS
        )
        reference = "bare argon2" if column == 0 else "bare JSON"
        axis.set_title(f"neodyme / {reference} throughput (target: {targets})", fontsize=10)
        axis.set_ylabel("ratio (1 = as fast as the reference)")
        axis.set_xticks(runs, labels, fontsize=8)
        axis.set_xlim(-0.5, max(0.5, len(entries) - 0.5))
        axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    figure.suptitle(
        f"make bench over time: {len(entries)} run(s) from bench/history.jsonl "
        "\n+: uncommitted changes; hollow: a busy machine (load average over 1.5 x cores"
        " at the start); grey vertical line: another machine"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    """``python -m bench.report``: the table of bench/results/latest.json again, or with
    ``--history`` the trend chart of bench/history.jsonl."""
    from bench import history  # not at the top: bench.history reads this module's names

    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--history", action="store_true", help="draw the trend chart")
    parser.add_argument("--history-file", type=Path, default=history.HISTORY)
    parser.add_argument("--chart", type=Path, default=root / "docs/bench-history.png")
    parser.add_argument("--results", type=Path, default=root / "bench/results/latest.json")
    options = parser.parse_args()
    if not options.history:
        print(table(json.loads(options.results.read_text())))
        return
    entries = history.read(options.history_file)
    if not entries:
        raise SystemExit(f"{options.history_file}: no runs yet (`make bench` adds one)")
    trend_chart(entries, options.chart)
    print(f"wrote {options.chart}: {len(entries)} run(s), {len(history.series(entries))} ratios")


if __name__ == "__main__":
    main()
