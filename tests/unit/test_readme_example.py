"""The README's in-process example is executed, so the documentation cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from neodyme_app.config import settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def in_process_example() -> str:
    section = README.read_text().split("## In-process use", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README lost its in-process example"
    return match.group(1)


def test_readme_in_process_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(in_process_example(), str(README), "exec"), {"__name__": "readme"})

    assert re.search(r"registered ada@example.com id [0-9a-f-]{36}", capsys.readouterr().out)


def test_readme_configuration_table_lists_every_setting() -> None:
    assert settings_table() in README.read_text()
