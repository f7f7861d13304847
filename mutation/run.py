"""``make mutation``: run mutmut, print the score, write ``mutation/summary.json``.

mutmut (configured in pyproject.toml, ``[tool.mutmut]``) mutates the domain and the
security-critical adapters one small change at a time and runs the unit tests that reach
the changed function: a mutant the tests do not notice ("survived") is a bug they would
not catch either. This script adds what mutmut leaves to its user:

- the score, overall and per module, against the targets of docs/testing.md: every
  non-equivalent mutant of the domain killed, 95% of the adapters';
- the equivalent mutants: lines marked ``# pragma: no mutate (equivalent: <why>)``, which
  mutmut does not mutate at all; a pragma without its reason is refused, so that nothing is
  excluded without saying why;
- survivors listed in ``mutation/equivalents.toml`` (a mutated function and the exact lines
  the mutant removes and adds, with a reason): equivalent mutants a pragma cannot mark
  without hiding killed ones beside them; an entry that matches nothing in a full run is
  refused as stale;
- ``--changed``: only the modules changed since ``main`` (committed or not), for daily use.

Exit status: 0 when the targets hold, 1 when they do not (or a pragma lacks its reason),
2 when mutmut itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = ROOT / "mutation" / "summary.json"
EQUIVALENTS = ROOT / "mutation" / "equivalents.toml"
RUN_LOG = ROOT / "mutants" / "run.log"
MUTMUT = Path(sys.executable).parent / "mutmut"

DOMAIN_TARGET = 1.0
ADAPTER_TARGET = 0.95

PRAGMA = re.compile(r"#\s*pragma:\s*no mutate\b(?P<rest>.*)$")
REASON = re.compile(r"\(equivalent: [^)]{8,}\)")
RESULT = re.compile(r"^\s*(?P<name>\S+): (?P<status>.+?)\s*$")

KILLED = {"killed", "timeout", "caught by type check"}
NOT_KILLED = {"survived", "no tests", "suspicious", "segfault"}


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    timeout: int = 0
    other: int = 0
    equivalent: int = 0

    @property
    def judged(self) -> int:
        return self.killed + self.timeout + self.survived + self.other

    @property
    def score(self) -> float:
        return 1.0 if self.judged == 0 else (self.killed + self.timeout) / self.judged


def mutated_files() -> list[Path]:
    """The files pyproject.toml's ``only_mutate`` names."""
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    files = sorted((ROOT / "src").rglob("*.py"))
    return [f for f in files if any(fnmatch(str(f.relative_to(ROOT)), p) for p in patterns)]


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "src").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def equivalents(files: list[Path]) -> tuple[Counter[str], list[str]]:
    """Pragmas per module, and the pragmas that give no reason."""
    counts: Counter[str] = Counter()
    unexplained = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if (match := PRAGMA.search(line)) is None:
                continue
            counts[module_of(path)] += 1
            if not REASON.search(match["rest"]):
                unexplained.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return counts, unexplained


def changed_files(files: list[Path]) -> list[Path]:
    """Mutated files that differ from main: committed on this branch, staged or not."""

    def git(*args: str) -> set[str]:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
        return set(out.stdout.split())

    base = subprocess.run(
        ["git", "merge-base", "main", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    names = git("diff", "--name-only", base or "HEAD") | git(
        "ls-files", "--others", "--exclude-standard"
    )
    return [f for f in files if str(f.relative_to(ROOT)) in names]


def listed_equivalents() -> list[dict[str, object]]:
    import tomllib

    return list(tomllib.loads(EQUIVALENTS.read_text()).get("equivalent", []))


def mutant_change(name: str) -> tuple[str, list[str], list[str]]:
    """The mutated function and the lines ``mutmut show`` says the mutant removes and adds."""
    shown = subprocess.run(
        [str(MUTMUT), "show", name], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    removed = [ln[1:].strip() for ln in shown if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:].strip() for ln in shown if ln.startswith("+") and not ln.startswith("+++")]
    return name.rsplit("__mutmut_", 1)[0], removed, added


def split_equivalents(
    survivors: list[str], entries: list[dict[str, object]]
) -> tuple[list[str], dict[str, str], list[dict[str, object]]]:
    """Survivors that no entry explains, those that one does (name -> reason), and the
    entries that explained nothing."""
    unexplained, explained, used = [], {}, set()
    for name in survivors:
        function, removed, added = mutant_change(name)
        for index, entry in enumerate(entries):
            if (entry["function"], entry["removed"], entry["added"]) == (function, removed, added):
                explained[name] = str(entry["reason"])
                used.add(index)
                break
        else:
            unexplained.append(name)
    unused = [entry for index, entry in enumerate(entries) if index not in used]
    return unexplained, explained, unused


def run_mutmut(globs: list[str]) -> int:
    """A fresh run every time: mutmut 3.8 keeps a mutant's cached verdict when only the
    tests changed (measured: a survivor killed by a new test was still reported as
    survived), and a stale survivor, or a stale kill, is worse than the minutes saved."""
    shutil.rmtree(RUN_LOG.parent, ignore_errors=True)
    RUN_LOG.parent.mkdir()
    children = str(os.cpu_count() or 1)
    with RUN_LOG.open("w") as log:
        return subprocess.run(
            [str(MUTMUT), "run", "--max-children", children, *globs],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        ).returncode


def results() -> dict[str, str]:
    out = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        if match := RESULT.match(line):
            found[match["name"]] = match["status"]
    return found


def tally(statuses: dict[str, str], modules: list[str]) -> dict[str, Tally]:
    by_module: dict[str, Tally] = defaultdict(Tally)
    for name, status in statuses.items():
        module = name.split(".x", 1)[0]  # mutant names: <module>.x_<function>__mutmut_<n>
        if module not in modules or status == "not checked":
            continue
        entry = by_module[module]
        if status == "timeout":
            entry.timeout += 1
        elif status in KILLED:
            entry.killed += 1
        elif status == "survived":
            entry.survived += 1
        elif status in NOT_KILLED:
            entry.other += 1
    return by_module


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changed", action="store_true", help="only modules changed since main")
    args = parser.parse_args(argv)

    files = mutated_files()
    counts, unexplained = equivalents(files)
    if unexplained:
        print("pragmas without a reason, `# pragma: no mutate (equivalent: <why>)`:")
        print("\n".join(f"  {line}" for line in unexplained))
        return 1
    selected = changed_files(files) if args.changed else files
    if not selected:
        print("mutation: no mutated module changed since main")
        return 0
    modules = sorted({module_of(f) for f in selected})
    globs = [f"{module}.x*" for module in modules] if args.changed else []
    started = time.monotonic()
    print(f"mutation: mutmut over {len(modules)} modules (log: {RUN_LOG.relative_to(ROOT)})")
    if (code := run_mutmut(globs)) != 0:
        print(f"mutation: mutmut failed (exit {code}); see {RUN_LOG.relative_to(ROOT)}")
        return 2
    seconds = time.monotonic() - started
    statuses = results()
    survivors = sorted(
        n for n, s in statuses.items() if s in NOT_KILLED and n.split(".x", 1)[0] in modules
    )
    survivors, explained, stale = split_equivalents(survivors, listed_equivalents())
    for name in explained:
        statuses[name] = "equivalent (listed)"
    by_module = tally(statuses, modules)
    for module in modules:
        by_module[module].equivalent = counts.get(module, 0) + sum(
            1 for name in explained if name.split(".x", 1)[0] == module
        )

    print(f"\n{'module':48} {'killed':>7} {'survived':>8} {'timeout':>7} {'equiv':>5}  score")
    for module in modules:
        t = by_module[module]
        print(
            f"{module:48} {t.killed:7} {t.survived:8} {t.timeout:7} {t.equivalent:5}"
            f"  {t.score:6.1%}"
        )
    groups = {
        "domain": [m for m in modules if m.startswith("neodyme_domain")],
        "adapters": [m for m in modules if m.startswith("neodyme_adapters")],
    }
    targets = {"domain": DOMAIN_TARGET, "adapters": ADAPTER_TARGET}
    group_tallies = {}
    for group, members in groups.items():
        total = Tally()
        for m in members:
            t = by_module[m]
            total.killed += t.killed
            total.survived += t.survived
            total.timeout += t.timeout
            total.other += t.other
            total.equivalent += t.equivalent
        group_tallies[group] = total
    overall = Tally()
    for t in group_tallies.values():
        overall.killed += t.killed
        overall.survived += t.survived
        overall.timeout += t.timeout
        overall.other += t.other
        overall.equivalent += t.equivalent

    print()
    for group, t in group_tallies.items():
        if t.judged:
            print(
                f"{group}: {t.score:.2%} of {t.judged} non-equivalent mutants killed"
                f" (target {targets[group]:.0%}; {t.equivalent} equivalent)"
            )
    print(
        f"score: {overall.score:.2%} ({overall.killed + overall.timeout} of {overall.judged}"
        f" killed, {overall.equivalent} equivalent) in {seconds / 60:.1f} min"
    )
    if explained:
        print("equivalent survivors (mutation/equivalents.toml):")
        print("\n".join(f"  {name}: {reason}" for name, reason in sorted(explained.items())))
    if survivors:
        print("survivors (see each with `.venv/bin/mutmut show NAME`):")
        print("\n".join(f"  {name}" for name in survivors))

    if not args.changed:
        summary = {
            "commit": commit(),
            "killed": overall.killed,
            "survived": overall.survived + overall.other,
            "timeout": overall.timeout,
            "equivalent": overall.equivalent,
            "total": overall.judged + overall.equivalent,
            "score": round(overall.score, 4),
            "minutes": round(seconds / 60, 1),
            "groups": {
                group: {
                    "killed": t.killed + t.timeout,
                    "survived": t.survived + t.other,
                    "equivalent": t.equivalent,
                    "score": round(t.score, 4),
                }
                for group, t in group_tallies.items()
            },
            "modules": {
                m: {
                    "killed": by_module[m].killed + by_module[m].timeout,
                    "survived": by_module[m].survived + by_module[m].other,
                    "equivalent": by_module[m].equivalent,
                }
                for m in modules
            },
        }
        SUMMARY.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        print(f"wrote {SUMMARY.relative_to(ROOT)}")
    if stale and not args.changed:
        print("entries of mutation/equivalents.toml that match no survivor (stale: remove them):")
        print("\n".join(f"  {entry['function']}: {entry['removed']}" for entry in stale))
        return 1
    missed = [g for g, t in group_tallies.items() if t.judged and t.score < targets[g]]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
