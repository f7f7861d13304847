"""Recovery codes: what signs in when the authenticator is lost. Each works once.

A code is 12 characters of the RFC 4648 base32 alphabet (60 random bits), shown as three
groups of four (``abcd-efgh-ijkl``). Stored as a SHA-256 digest, like the e-mailed links:
60 random bits are not guessable (and the login throttle counts wrong codes), so no slow
hash is needed. Typed back, case, spaces and dashes do not matter.
"""

from __future__ import annotations

import secrets

from neodyme_domain.mfa.model import RECOVERY_CODE_COUNT
from neodyme_domain.tokens.model import digest

ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
GROUPS = 3
GROUP_LENGTH = 4


def new_recovery_codes() -> list[str]:
    """A new set of ``RECOVERY_CODE_COUNT`` distinct codes, for the user's eyes only."""
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(_new_code())
    return sorted(codes)


def _new_code() -> str:
    characters = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(
        characters[start : start + GROUP_LENGTH]
        for start in range(0, len(characters), GROUP_LENGTH)
    )


def recovery_code_digest(typed: str) -> str:
    """The stored digest of a code as the user typed it."""
    return digest("".join(typed.split()).replace("-", "").lower())
