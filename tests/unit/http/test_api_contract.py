"""The API compatibility contract: the OpenAPI document the server serves is the committed
one (docs/openapi.json), and a difference fails with each change classified as breaking or
additive (tests/support/openapi_diff.py). ``make openapi`` updates the snapshot once the
change is meant, and a breaking one first needs its line in docs/api-changes.md.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support.openapi_snapshot import (
    ACCEPTED_CHANGES,
    SNAPSHOT,
    canonical,
    live_document,
    malformed_entries,
    parse_accepted,
    verdict,
)

Document = dict[str, Any]


@pytest.fixture(scope="module")
def committed() -> Document:
    """The snapshot: the real document, for the tests of what a change of it reports."""
    return dict(json.loads(SNAPSHOT.read_text(encoding="utf-8")))


def test_the_served_document_is_the_committed_snapshot() -> None:
    live = live_document()
    committed = SNAPSHOT.read_text(encoding="utf-8")

    if canonical(live) != committed:
        accepted = ACCEPTED_CHANGES.read_text(encoding="utf-8")
        pytest.fail(verdict(json.loads(committed), live, accepted).report(), pytrace=False)


def test_every_accepted_change_entry_is_well_formed() -> None:
    """A line that looks like an entry but does not parse would accept nothing, silently."""
    assert malformed_entries(ACCEPTED_CHANGES.read_text(encoding="utf-8")) == []


def without_user_email(document: Document) -> Document:
    changed = copy.deepcopy(document)
    user = changed["components"]["schemas"]["UserOut"]
    del user["properties"]["email"]
    user["required"].remove("email")
    return changed


def test_a_removed_response_field_fails_with_a_report_naming_it(committed: Document) -> None:
    result = verdict(committed, without_user_email(committed), accepted_text="")
    report = result.report()

    assert [change.id for change in result.unaccepted] == [
        "response-field-removed schema UserOut.email"
    ]
    assert "BREAKING: response field `email` removed, at schema UserOut.email" in report
    assert "GET /api/v1/auth/me response 200" in report
    assert "1 breaking change(s) not accepted" in report


def test_an_entry_in_the_accepted_changes_accepts_that_change_only(committed: Document) -> None:
    changed = without_user_email(committed)
    changed["paths"].pop("/api/v1/auth/logout")
    accepted = "- `response-field-removed schema UserOut.email`: clients read `emails` now.\n"

    result = verdict(committed, changed, accepted)

    assert [change.id for change in result.unaccepted] == ["path-removed /api/v1/auth/logout"]


def test_additive_changes_only_ask_for_the_snapshot_to_be_updated(committed: Document) -> None:
    changed = copy.deepcopy(committed)
    changed["paths"]["/api/v1/auth/me"]["get"]["responses"]["418"] = {"description": "Tea"}

    result = verdict(committed, changed, accepted_text="")

    assert result.unaccepted == []
    assert result.report().endswith("Run `make openapi` to update the snapshot.")


def test_accepted_changes_are_one_line_each_with_a_reason() -> None:
    text = "\n".join(
        [
            "    - `indented example`: not an entry",
            "- `path-removed /a`: replaced by /b.",
            "- `path-removed /c`:",
            "- `path-removed /d: the backtick is missing",
        ]
    )

    assert parse_accepted(text) == {"path-removed /a": "replaced by /b."}
    assert malformed_entries(text) == [
        "- `path-removed /c`:",
        "- `path-removed /d: the backtick is missing",
    ]
