"""The README and docs/ are checked like code: the in-process example is executed, the
configuration page is the code's own table, and every page is linked and every link leads
somewhere, so the documentation cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from neodyme_app.config import settings_table

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]

# [text](target) and ![alt](target); an http(s) or mailto target, or a bare #anchor, is
# not a file of the repository.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def in_process_example() -> str:
    section = README.read_text().split("## In-process use", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README lost its in-process example"
    return match.group(1)


def test_readme_in_process_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(in_process_example(), str(README), "exec"), {"__name__": "readme"})

    out = capsys.readouterr().out
    assert "refused: EMAIL_ALREADY_EXISTS" in out
    assert re.search(r"registered ada@example.com id [0-9a-f-]{36}", out)


def test_configuration_page_lists_every_setting() -> None:
    assert settings_table() in (DOCS / "configuration.md").read_text()


def test_the_readme_links_every_docs_page() -> None:
    linked = set(LINK.findall(README.read_text()))

    assert {f"docs/{page.name}" for page in DOCS.glob("*.md")} <= linked


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    targets = [
        target.split("#", 1)[0]
        for target in LINK.findall(page.read_text())
        if not re.match(r"[a-z]+:|#", target)
    ]

    assert [t for t in targets if not (page.parent / t).exists()] == []
