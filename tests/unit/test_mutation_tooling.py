"""The rules of `make mutation` that need no mutation run, checked in every `make test`:
no pragma without its reason, and every listed equivalent mutant explained."""

from __future__ import annotations

from mutation.run import (
    PRAGMA,
    REASON,
    equivalents,
    listed_equivalents,
    module_of,
    mutated_files,
)


def test_every_no_mutate_pragma_in_the_mutated_code_gives_its_reason() -> None:
    counts, unexplained = equivalents(mutated_files())

    assert unexplained == []
    assert sum(counts.values()) > 0, "the scan found the pragmas that exist"


def test_the_reason_form_is_what_the_scan_accepts() -> None:
    line = "x = f()  # pragma: no mutate (equivalent: None means the same default here)"
    bare = "x = f()  # pragma: no mutate"
    short = "x = f()  # pragma: no mutate (equivalent: same)"

    def reason_of(text: str) -> bool:
        match = PRAGMA.search(text)
        assert match is not None, text
        return REASON.search(match["rest"]) is not None

    assert reason_of(line)
    assert not reason_of(bare)
    assert not reason_of(short)


def test_each_listed_equivalent_names_a_mutated_function_and_says_why() -> None:
    modules = {module_of(f) for f in mutated_files()}
    entries = listed_equivalents()

    assert entries
    for entry in entries:
        assert set(entry) == {"function", "removed", "added", "reason"}
        assert len(str(entry["reason"])) >= 20
        assert entry["removed"] != entry["added"]
        assert str(entry["function"]).split(".x", 1)[0] in modules
