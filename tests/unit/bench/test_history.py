"""bench/history.py: what a `make bench` run leaves in the committed history, and what the
trend chart reads back. Synthetic results, shaped like bench/run.py's: no server, no wrk."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import history, report

MACHINE = {"cpu": "Test CPU", "cores": 2, "memory_mib": 4096, "python": "3.11.9", "kernel": "6"}
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def cell(rps: float) -> dict[str, Any]:
    return {
        "rps": rps,
        "p50_ms": 1.234,
        "p99_ms": 5.678,
        "cpu_ms_per_request": 0.98765,
        "errors": 0,
    }


def results(
    *, postgresql: bool = True, make_test: bool = True, tokens: bool = False
) -> dict[str, Any]:
    """Two concurrencies; neodyme at a known fraction of each reference. ``tokens``: with
    the server on EdDSA tokens, and the bare JSON reference's introspection cells."""
    servers: dict[str, Any] = {
        "sqlite": {
            "cells": {
                "register": {"16": cell(75.0), "64": cell(70.0)},
                "login": {"16": cell(80.0), "64": cell(60.0)},
                "me": {"16": cell(2000.0), "64": cell(1000.0)},
            },
            "health": {"p99_ms": 11.34},
            "memory": {"growth_mib": 64.26},
        },
        "argon2": {
            "cells": {
                "register": {"16": cell(100.0), "64": cell(100.0)},
                "login": {"16": cell(100.0), "64": cell(80.0)},
            }
        },
        "json": {"cells": {"me": {"16": cell(20000.0), "64": cell(40000.0)}}},
    }
    if postgresql:
        servers["postgresql"] = {
            "cells": {
                "register": {"16": cell(50.0), "64": cell(25.0)},
                "login": {"16": cell(90.0), "64": cell(40.0)},
                "me": {"16": cell(4000.0), "64": cell(2000.0)},
            }
        }
    if tokens:
        servers["sqlite_eddsa"] = {
            "label": "neodyme SQLite EdDSA",
            "cells": {
                "me": {"16": cell(1800.0), "64": cell(800.0)},
                "introspect": {"16": cell(1000.0), "64": cell(500.0)},
            },
        }
        servers["json"]["cells"]["introspect"] = {"16": cell(10000.0), "64": cell(20000.0)}
    return {
        "machine": {
            "cores": 2,
            "wrk": "wrk 4.1.0",
            "load_average_at_start": [1.5, 1.0, 0.5],
            "load_average_at_end": [3.254, 2.0, 1.0],
        },
        "options": {
            "seconds": 8,
            "warmup": 2,
            "connections": [16, 64],
            "workers": 2,
            "registrations": 1000,
        },
        "servers": servers,
        "make_test": {"wall_s": 67.91, "unit_s": 5.7, "exit": 0} if make_test else None,
    }


def test_ratios_are_neodyme_throughput_over_its_reference_per_endpoint_backend_and_count():
    assert history.ratios(results()) == {
        "register.sqlite.c16": 0.75,
        "register.sqlite.c64": 0.7,
        "register.postgresql.c16": 0.5,
        "register.postgresql.c64": 0.25,
        "login.sqlite.c16": 0.8,
        "login.sqlite.c64": 0.75,
        "login.postgresql.c16": 0.9,
        "login.postgresql.c64": 0.5,
        "me.sqlite.c16": 0.1,
        "me.sqlite.c64": 0.025,
        "me.postgresql.c16": 0.2,
        "me.postgresql.c64": 0.05,
    }


def test_a_backend_left_out_of_the_run_has_no_ratios():
    assert not [name for name in history.ratios(results(postgresql=False)) if "postgresql" in name]


def test_the_raw_figures_of_every_cell_and_of_the_other_rows_are_kept():
    figures = history.figures(results())
    assert figures["login.argon2.c64.rps"] == 80.0
    assert figures["me.json.c16.p99_ms"] == 5.68
    assert figures["register.postgresql.c16.cpu_ms"] == 0.988
    assert figures["health.sqlite.p99_ms"] == 11.34
    assert figures["memory.sqlite.growth_mib"] == 64.3
    assert figures["make_test.wall_s"] == 67.9
    assert figures["make_test.unit_s"] == 5.7
    assert "make_test.wall_s" not in history.figures(results(make_test=False))


def record(**ratios: float) -> dict[str, Any]:
    return history.entry(
        results(), commit="0123456789abcdef", dirty=False, date=WHEN, machine=MACHINE
    ) | ({"ratios": ratios} if ratios else {})


def test_an_entry_names_commit_date_machine_options_and_every_ratio():
    entry = history.entry(
        results(), commit="c0ffee" * 6 + "abcd", dirty=True, date=WHEN, machine=MACHINE
    )
    assert entry["commit"] == "c0ffee" * 6 + "abcd"
    assert entry["dirty"] is True
    assert entry["date"] == "2025-01-02T03:04:05+00:00"
    assert entry["machine"] == {**MACHINE, "wrk": "wrk 4.1.0", "load_average": [1.5, 3.25]}
    assert entry["options"] == {"seconds": 8, "warmup": 2, "connections": [16, 64], "workers": 2}
    assert entry["ratios"] == history.ratios(results())
    assert entry["figures"] == history.figures(results())


def test_a_history_line_is_one_line_of_json_with_keys_sorted_at_every_level():
    line = history.line(record())
    assert line.endswith("}\n")
    assert line.count("\n") == 1

    def keys_sorted(value: Any) -> bool:
        if isinstance(value, dict):
            return list(value) == sorted(value) and all(map(keys_sorted, value.values()))
        return all(map(keys_sorted, value)) if isinstance(value, list) else True

    assert keys_sorted(json.loads(line))
    assert json.loads(line) == record()


def test_append_adds_one_line_and_leaves_the_earlier_ones_as_they_were(tmp_path: Path):
    path = tmp_path / "history.jsonl"
    history.append(path, record(**{"login.sqlite.c16": 0.7}))
    before = path.read_bytes()
    history.append(path, record(**{"login.sqlite.c16": 0.8}))
    assert path.read_bytes().startswith(before)
    assert [e["ratios"] for e in history.read(path)] == [
        {"login.sqlite.c16": 0.7},
        {"login.sqlite.c16": 0.8},
    ]


def test_a_missing_history_has_no_runs(tmp_path: Path):
    assert history.read(tmp_path / "nothing.jsonl") == []


def test_each_series_follows_the_table_order_with_none_where_a_run_did_not_measure_it():
    entries = [
        record(**{"me.sqlite.c16": 0.1, "login.sqlite.c64": 0.7, "login.sqlite.c16": 0.8}),
        record(**{"login.postgresql.c16": 0.9, "login.sqlite.c16": 0.75, "other": 2.0}),
    ]
    assert history.series(entries) == {
        "login.sqlite.c16": [0.8, 0.75],
        "login.sqlite.c64": [0.7, None],
        "login.postgresql.c16": [None, 0.9],
        "me.sqlite.c16": [0.1, None],
        "other": [None, 2.0],
    }


def test_a_run_is_labelled_by_date_short_commit_dirtiness_and_load():
    clean = record()
    assert history.run_label(clean) == "2025-01-02\n0123456\nload 1.5-3.2"
    assert history.run_label(clean | {"dirty": True}) == "2025-01-02\n0123456+\nload 1.5-3.2"


def loaded(*loads: float | None) -> dict[str, Any]:
    entry = record()
    return entry | {"machine": entry["machine"] | {"cores": 2, "load_average": list(loads)}}


def test_a_run_is_busy_when_the_load_at_its_start_passed_one_and_a_half_times_the_cores():
    assert not history.busy(loaded(3.0, 5.2))  # the end: the benchmark's own load
    assert history.busy(loaded(3.01, 1.0))
    assert history.busy(loaded(4.2, None))
    assert not history.busy(loaded(None, 9.0))
    assert not history.busy(loaded())


def test_a_run_on_another_machine_than_the_run_before_is_marked():
    def on(cpu: str, python: str = "3.11.9") -> dict[str, Any]:
        entry = record()
        return entry | {"machine": entry["machine"] | {"cpu": cpu, "python": python}}

    entries = [on("A"), on("A"), on("B"), on("B", "3.12.1"), on("B", "3.12.1")]
    assert history.machine_changes(entries) == [2, 3]


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


def test_the_revision_is_the_commit_and_whether_tracked_files_changed(tmp_path: Path):
    git(tmp_path, "init", "-q")
    (tmp_path / "tracked.txt").write_text("one")
    git(tmp_path, "add", "tracked.txt")
    git(tmp_path, "commit", "-q", "-m", "first")
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()

    (tmp_path / "scratch.db").write_text("untracked files do not count")
    assert history.revision(tmp_path) == (head, False)
    (tmp_path / "tracked.txt").write_text("two")
    assert history.revision(tmp_path) == (head, True)


def test_outside_a_repository_the_revision_is_unknown(tmp_path: Path):
    assert history.revision(tmp_path) == ("unknown", False)


def test_the_tokens_servers_ratios_follow_the_others_when_it_ran():
    found = history.ratios(results(tokens=True))
    assert {name: value for name, value in found.items() if "eddsa" in name} == {
        "me.sqlite_eddsa.c16": 0.09,
        "me.sqlite_eddsa.c64": 0.02,
        "introspect.sqlite_eddsa.c16": 0.1,
        "introspect.sqlite_eddsa.c64": 0.025,
    }
    assert found.keys() - {n for n in found if "eddsa" in n} == history.ratios(results()).keys()
    assert history.figures(results(tokens=True))["introspect.json.c64.rps"] == 20000.0
    names = list(history.series([record() | {"ratios": found}]))
    assert names[-5:] == [
        "me.postgresql.c64",
        "me.sqlite_eddsa.c16",
        "me.sqlite_eddsa.c64",
        "introspect.sqlite_eddsa.c16",
        "introspect.sqlite_eddsa.c64",
    ]


def labelled(data: dict[str, Any]) -> dict[str, Any]:
    labels = {"sqlite": "neodyme SQLite", "argon2": "bare argon2", "json": "bare JSON"}
    for key, server in data["servers"].items():
        server.setdefault("label", labels.get(key, key))
    data["machine"]["cpu"] = MACHINE["cpu"]
    data["servers"]["sqlite"]["memory"] |= {
        "rss_before_mib": 300.0,
        "rss_warm_mib": 330.0,
        "rss_after_mib": 364.26,
        "warm_after": 100,
        "logins_200": {"peak_rss_mib": 370.0, "statuses": {200: 200}},
    }
    return data


def test_the_table_gives_the_tokens_rows_as_ratios_to_bare_json_and_to_hs256():
    table = report.table(labelled(results(postgresql=False, tokens=True)))
    # A row's first cell to the row; the tokens table's rows come last, and win.
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in table.splitlines()}
    assert rows["GET /auth/me req/s, 16 clients"].split(" | ")[1:] == [
        "1,800/s = 0.09x",
        "20,000/s (bare JSON)",
        "0.90x neodyme SQLite (HS256) |",
    ]
    assert (
        "1,000/s = 0.10x | 10,000/s (bare JSON) | - |"
        in rows["POST /auth/introspect req/s, 16 clients"]
    )
    assert "introspect: server CPU per request, 16 clients" in rows
    without = report.table(labelled(results(postgresql=False)))
    assert "POST /auth/introspect" not in without
    assert "tokens other services trust" not in without
