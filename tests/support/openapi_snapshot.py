"""The API compatibility contract: the live OpenAPI document, its committed snapshot
(docs/openapi.json) and the breaking changes accepted on purpose (docs/api-changes.md).

The unit tier (tests/unit/http/test_api_contract.py) fails while the live document differs
from the snapshot, with each difference classified (tests/support/openapi_diff.py).
``make openapi`` runs this module to rewrite the snapshot, and refuses while a breaking
difference has no entry in docs/api-changes.md: the one place where "we break clients on
purpose" is written down, with the reason, and reviewed. The workflow is in
docs/testing.md ("API compatibility contract").

    python -m tests.support.openapi_snapshot           # make openapi: check, then write
    python -m tests.support.openapi_snapshot --print   # the live document, canonical
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

from tests.support.openapi_diff import BREAKING, Change, compare, render

__all__ = [
    "ACCEPTED_CHANGES",
    "SNAPSHOT",
    "Verdict",
    "canonical",
    "live_document",
    "malformed_entries",
    "parse_accepted",
]

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "docs" / "openapi.json"
ACCEPTED_CHANGES = ROOT / "docs" / "api-changes.md"

ENTRY = re.compile(r"^- `(?P<id>[^`]+)`: (?P<reason>\S.*)$")
"""One accepted breaking change: ``- `<change id>`: <reason>``."""


def live_document() -> dict[str, Any]:
    """The document the server serves at /schema/openapi.json with the default settings
    (on memory storage: the document does not depend on the database)."""
    # Imported here: the classifier and its tests need none of the app.
    from litestar.testing import TestClient

    from neodyme_app.config import Settings
    from neodyme_app.container import build_container
    from neodyme_app.http import create_app
    from neodyme_app.http.api_page import SCHEMA_PATH

    app = create_app(build_container(Settings(database_url="memory://")))
    # Not entered as a context manager: no lifespan, so no hasher, dispatcher or engine.
    response = TestClient(app).get(f"{SCHEMA_PATH}/openapi.json")
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def canonical(document: Mapping[str, Any]) -> str:
    """The snapshot's bytes: sorted keys and two-space indents, so a diff reads well."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def parse_accepted(text: str) -> dict[str, str]:
    """Accepted breaking changes: change id -> reason."""
    entries = (ENTRY.match(line) for line in text.splitlines())
    return {entry["id"]: entry["reason"] for entry in entries if entry}


def malformed_entries(text: str) -> list[str]:
    """Lines that look like entries but would not count (no reason, a missing backtick)."""
    return [line for line in text.splitlines() if line.startswith("- `") and not ENTRY.match(line)]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The differences between the snapshot and the live document, against what is
    accepted."""

    changes: list[Change]
    accepted: Collection[str]

    @property
    def unaccepted(self) -> list[Change]:
        return [c for c in self.changes if c.severity == BREAKING and c.id not in self.accepted]

    def report(self, *, writing: bool = False) -> str:
        """What changed, and what to do next (``writing``: said by ``make openapi`` itself)."""
        breaking = sum(change.severity == BREAKING for change in self.changes)
        lines = [
            f"The live OpenAPI document differs from {SNAPSHOT.relative_to(ROOT)}: "
            f"{breaking} breaking, {len(self.changes) - breaking} additive.",
            "",
            render(self.changes, self.accepted),
            "",
        ]
        if self.unaccepted:
            lines.append(
                f"{len(self.unaccepted)} breaking change(s) not accepted. If they are meant, add "
                f"one line each to {ACCEPTED_CHANGES.relative_to(ROOT)}, "
                "- `<id>`: <reason>, then run `make openapi`; if not, restore the API."
            )
        elif not writing:
            lines.append("Run `make openapi` to update the snapshot.")
        return "\n".join(lines).rstrip("\n")


def verdict(snapshot: Mapping[str, Any], live: Mapping[str, Any], accepted_text: str) -> Verdict:
    return Verdict(compare(snapshot, live), parse_accepted(accepted_text).keys())


def _accepted_text() -> str:
    return ACCEPTED_CHANGES.read_text(encoding="utf-8") if ACCEPTED_CHANGES.exists() else ""


def _document_of_another_process() -> str:
    """The live document generated again in a fresh interpreter with another hash seed:
    the snapshot is only worth comparing if every process generates the same bytes."""
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    return subprocess.run(
        [sys.executable, "-m", "tests.support.openapi_snapshot", "--print"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def write_snapshot() -> int:
    """``make openapi``: write the live document to the snapshot, unless it is not
    deterministic or carries a breaking change nobody accepted."""
    live = live_document()
    text = canonical(live)
    other = _document_of_another_process()
    if other != text:
        pairs = zip_longest(text.splitlines(), other.splitlines())
        line = next(number for number, (a, b) in enumerate(pairs, 1) if a != b)
        print(f"The OpenAPI document differs between two processes (line {line}): not written.")
        return 1
    if SNAPSHOT.exists():
        previous = SNAPSHOT.read_text(encoding="utf-8")
        if previous == text:
            print(f"{SNAPSHOT.relative_to(ROOT)} is up to date.")
            return 0
        result = verdict(json.loads(previous), live, _accepted_text())
        print(result.report(writing=True))
        if result.unaccepted:
            print(f"{SNAPSHOT.relative_to(ROOT)} not written.")
            return 1
    SNAPSHOT.write_text(text, encoding="utf-8")
    print(f"Wrote {SNAPSHOT.relative_to(ROOT)}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", action="store_true", help="print the live document only")
    arguments = parser.parse_args(argv)
    if arguments.print:
        sys.stdout.write(canonical(live_document()))
        return 0
    return write_snapshot()


if __name__ == "__main__":
    sys.exit(main())
