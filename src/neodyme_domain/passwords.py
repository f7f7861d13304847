"""Password policies. Each rule has a name that clients can show when it is not met.

Two profiles: ``book`` (the default: the book's composition rules) and ``nist`` (NIST SP
800-63B: length over composition, and a blocklist of common passwords). Passwords are
compared in their NFKC form, so that the same password typed on two keyboards (composed
or decomposed accents, full-width digits) is one password; nothing is ever truncated.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from neodyme_domain.errors import ValidationFailed, WeakPassword

MAX_PASSWORD_LENGTH = 1024
"""Hashing cost is bounded: longer passwords are refused before any hash is computed."""


class PasswordPolicy(Protocol):
    def check(self, password: str) -> None:
        """Raise WeakPassword naming every unmet rule, or ValidationFailed when too long."""


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def _is_special(ch: str) -> bool:
    return not (ch.islower() or ch.isupper() or ch.isdigit())


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    holds: Callable[[str], bool]
    also_as_typed: bool = False
    """Must hold for the password as typed too, not only for its NFKC form."""


def min_length(n: int) -> Rule:
    """Counted on both forms: NFKC can lengthen a password (``½`` is three characters in
    it) or shorten it (a decomposed accent is one), and the API documents the length of
    what is sent (``minLength``), which must not be shorter than promised either way."""
    return Rule("min_length", lambda p: len(p) >= n, also_as_typed=True)


BOOK_MIN_LENGTH = 8
NIST_MIN_LENGTH = 15

BOOK_RULES: tuple[Rule, ...] = (
    min_length(BOOK_MIN_LENGTH),
    Rule("lowercase", lambda p: any(ch.islower() for ch in p)),
    Rule("uppercase", lambda p: any(ch.isupper() for ch in p)),
    Rule("digit", lambda p: any(ch.isdigit() for ch in p)),
    Rule("special", lambda p: any(_is_special(ch) for ch in p)),
)

NIST_RULES: tuple[Rule, ...] = (min_length(NIST_MIN_LENGTH),)


def not_common(blocklist: Collection[str]) -> Rule:
    """Refuse passwords on a list of common ones (compared case-insensitively)."""
    return Rule("common_password", lambda p: p.casefold() not in blocklist)


def check_length_bound(password: str) -> None:
    """What every password must be before any hashing: bounded, and text that has a UTF-8
    form (a lone surrogate, which in-process callers can pass, has none)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")
    try:
        password.encode()
    except UnicodeEncodeError:
        raise ValidationFailed("password", "must be valid Unicode text") from None


@dataclass(frozen=True, slots=True)
class RuleBasedPolicy:
    """Every rule must hold; the error names all that do not, in a stable order."""

    rules: tuple[Rule, ...] = BOOK_RULES

    def check(self, password: str) -> None:
        check_length_bound(password)
        normal = normalise(password)
        unmet = [
            rule.name
            for rule in self.rules
            if not rule.holds(normal) or (rule.also_as_typed and not rule.holds(password))
        ]
        if unmet:
            raise WeakPassword(unmet)


class PolicyProfile(StrEnum):
    BOOK = "book"
    NIST = "nist"


def shortest_password(profile: PolicyProfile) -> int:
    """The fewest characters a new password has under ``profile`` (its ``min_length``
    rule): what a client can be told up front, as the OpenAPI document does."""
    return NIST_MIN_LENGTH if profile is PolicyProfile.NIST else BOOK_MIN_LENGTH


def build_policy(
    profile: PolicyProfile, blocklist: Collection[str] | None = None
) -> RuleBasedPolicy:
    """The policy of a profile; ``blocklist`` (lower-cased common passwords) adds the
    ``common_password`` rule. ``nist`` without a blocklist is refused: it is part of it."""
    if profile is PolicyProfile.NIST:
        if blocklist is None:
            raise ValueError("the nist profile needs a blocklist of common passwords")
        return RuleBasedPolicy((*NIST_RULES, not_common(blocklist)))
    rules = BOOK_RULES if blocklist is None else (*BOOK_RULES, not_common(blocklist))
    return RuleBasedPolicy(rules)


BOOK_POLICY = RuleBasedPolicy(BOOK_RULES)
"""At least 8 characters, a lower-case and an upper-case letter, a digit and a character
that is none of these."""
