"""The real blocklist of common passwords, as the nist profile (or NEODYME_PASSWORD_BLOCKLIST)
gets it: the domain's own tests use a list of three."""

from __future__ import annotations

from neodyme_adapters.common_passwords import common_passwords


def test_the_blocklist_is_zxcvbns_thirty_thousand_passwords_case_folded() -> None:
    blocklist = common_passwords()

    assert len(blocklist) == 30_000
    assert {"123456", "password", "qwerty", "iloveyou", "qwertyuiop12345"} <= blocklist
    assert all(word == word.casefold() for word in blocklist)
