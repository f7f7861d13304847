"""What does a change cost the per-request token check? bench/revocation_cost.py run on
this checkout and on a baseline checkout, alternately in one session, so that both see
the same machine (it is shared and noisy); the medians and their ratio per backend:

    git worktree add /tmp/baseline <commit>
    .venv/bin/python -m bench.revocation_ab --baseline /tmp/baseline [--rounds 3]

The baseline's code is imported from ``<baseline>/src`` with this checkout's benchmark,
so the two runs differ only in the code under test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(src: Path, calls: int) -> dict[str, float]:
    """Microseconds per check (signature and lookups) by backend, for the code in ``src``."""
    env = os.environ | {"PYTHONPATH": f"{src}{os.pathsep}{ROOT}"}
    out = subprocess.run(
        [sys.executable, "-m", "bench.revocation_cost", "--calls", str(calls)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    timings = {}
    for line in out.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[2] == "us":
            timings[fields[0]] = float(fields[3])  # the "+ user lookup" column
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout to compare")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"this": [], "baseline": []}
    for _ in range(args.rounds):
        runs["this"].append(one_run(ROOT / "src", args.calls))
        runs["baseline"].append(one_run(args.baseline / "src", args.calls))
    print(f"{'backend':12} {'baseline':>12} {'this':>12}  ratio (median of {args.rounds} each)")
    for backend in runs["this"][0]:
        this = statistics.median(run[backend] for run in runs["this"])
        base = statistics.median(run[backend] for run in runs["baseline"])
        print(f"{backend:12} {base:9.1f} us {this:9.1f} us  {this / base:5.2f}x")


if __name__ == "__main__":
    main()
