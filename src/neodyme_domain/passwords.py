"""Password policies. The book's rules are the default; each rule has a name clients can show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from neodyme_domain.errors import ValidationFailed, WeakPassword

MAX_PASSWORD_LENGTH = 1024
"""Hashing cost is bounded: longer passwords are refused before any hash is computed."""


class PasswordPolicy(Protocol):
    def check(self, password: str) -> None:
        """Raise WeakPassword naming every unmet rule, or ValidationFailed when too long."""


def _is_special(ch: str) -> bool:
    return not (ch.islower() or ch.isupper() or ch.isdigit())


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    holds: Callable[[str], bool]


BOOK_RULES: tuple[Rule, ...] = (
    Rule("min_length", lambda p: len(p) >= 8),
    Rule("lowercase", lambda p: any(ch.islower() for ch in p)),
    Rule("uppercase", lambda p: any(ch.isupper() for ch in p)),
    Rule("digit", lambda p: any(ch.isdigit() for ch in p)),
    Rule("special", lambda p: any(_is_special(ch) for ch in p)),
)


def check_length_bound(password: str) -> None:
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")


@dataclass(frozen=True, slots=True)
class RuleBasedPolicy:
    """Every rule must hold; the error names all that do not, in a stable order."""

    rules: tuple[Rule, ...] = BOOK_RULES

    def check(self, password: str) -> None:
        check_length_bound(password)
        unmet = [rule.name for rule in self.rules if not rule.holds(password)]
        if unmet:
            raise WeakPassword(unmet)


BOOK_POLICY = RuleBasedPolicy(BOOK_RULES)
"""At least 8 characters, a lower-case and an upper-case letter, a digit and a character
that is none of these."""
