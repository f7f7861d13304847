"""The User entity and the value objects it is made of.

Identity is made here (``new_id``), not by the database, so a user exists as a complete
object before any adapter sees it and every adapter stores the same id.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from neodyme_domain.errors import ValidationFailed

UserId = uuid.UUID

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64
MAX_FULL_NAME_LENGTH = 200
NO_PASSWORD = ""
"""The stored hash of an account without a password: no hash verifies against it."""

_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")


def new_id() -> uuid.UUID:
    """A random (version 4) UUID: unguessable, so ids in URLs reveal nothing."""
    return uuid.uuid4()


_JOINERS = frozenset("\u200c\u200d")
"""Zero-width (non-)joiners: format characters that real names need (Persian, emoji)."""


def _has_control_characters(text: str) -> bool:
    """Control, line-separator and format characters (bidi overrides can disguise a name),
    except the joiners."""
    return any(
        unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} and ch not in _JOINERS for ch in text
    )


@dataclass(frozen=True, slots=True)
class Email:
    """An e-mail address: trimmed, domain lower-cased, compared case-insensitively.

    The local part keeps its case for display (RFC 5321 allows case-sensitive local parts),
    but two addresses that differ only in case are the same account: ``key`` is the fully
    lower-cased form that equality, hashing and the database's unique index use.
    """

    value: str
    key: str = field(init=False, repr=False, compare=True, hash=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.value.lower())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Email) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, raw: str) -> Email:
        text = raw.strip()
        if (
            not text
            or len(text) > MAX_EMAIL_LENGTH
            or text.count("@") != 1  # neither part may hold one (no quoted local parts)
            or _has_control_characters(text)
        ):
            raise ValidationFailed("email", "is not a valid e-mail address")
        local, domain = text.split("@")
        domain = domain.lower()
        if not _valid_local_part(local) or not _valid_domain(domain):
            raise ValidationFailed("email", "is not a valid e-mail address")
        return cls(f"{local}@{domain}")


def _valid_local_part(local: str) -> bool:
    return (
        len(local) <= MAX_LOCAL_PART_LENGTH  # and not empty: _LOCAL_PART wants one character
        and _LOCAL_PART.match(local) is not None
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
    )


def _valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(labels) >= 2
        and all(_DOMAIN_LABEL.match(label) for label in labels)
        and not (labels[-1].isdigit())
    )


def parse_full_name(raw: str) -> str:
    """1..200 characters after trimming, no control characters (they could forge e-mail headers)."""
    return parse_label(raw, "full_name", MAX_FULL_NAME_LENGTH)


def parse_label(raw: str, field: str, longest: int) -> str:
    """A name people give something (themselves, a passkey), shown in pages and e-mails:
    1..``longest`` characters after trimming, no control characters."""
    name = raw.strip()
    if not name:
        raise ValidationFailed(field, "must not be empty")
    if len(name) > longest:
        raise ValidationFailed(field, f"must be at most {longest} characters")
    if _has_control_characters(name):
        raise ValidationFailed(field, "must not contain control characters")
    return name


@dataclass(slots=True)
class User:
    """An account. Mutated only through its methods, which keep ``updated_at`` honest."""

    id: UserId
    email: Email
    full_name: str
    hashed_password: str
    is_active: bool
    is_verified: bool
    is_superuser: bool
    created_at: datetime
    updated_at: datetime
    token_version: int = 0
    """Stamped into every access token and one-time link; bumping it revokes them all at
    once (deactivation, password change or reset), checked on each request."""
    mfa_enabled: bool = False
    """A confirmed second factor: a right password alone no longer signs in."""

    @classmethod
    def register(
        cls,
        *,
        email: Email,
        full_name: str,
        hashed_password: str,
        now: datetime,
        is_superuser: bool = False,
    ) -> User:
        return cls(
            id=new_id(),
            email=email,
            full_name=parse_full_name(full_name),
            hashed_password=hashed_password,
            is_active=True,
            is_verified=False,
            is_superuser=is_superuser,
            created_at=now,
            updated_at=now,
        )

    @classmethod
    def operator(cls, now: datetime) -> User:
        """The person at the server's console (the ``neodyme`` CLI): a superuser that only
        exists in that process, never stored, so administrative use cases can be run
        from the command line through the same permission checks as over HTTP."""
        return cls(
            id=uuid.UUID(int=0),
            email=Email("operator@localhost.invalid"),
            full_name="Console operator",
            hashed_password="!",
            is_active=True,
            is_verified=True,
            is_superuser=True,
            created_at=now,
            updated_at=now,
        )

    @property
    def has_password(self) -> bool:
        """False for an account made by a sign-in with another provider (``NO_PASSWORD``),
        until "Forgot password" gives it one."""
        return self.hashed_password != NO_PASSWORD

    def rename(self, full_name: str, now: datetime) -> None:
        self.full_name = parse_full_name(full_name)
        self._touch(now)

    def replace_password_hash(self, hashed_password: str, now: datetime) -> None:
        """The same password under new hashing parameters: sessions stay valid."""
        self.hashed_password = hashed_password
        self._touch(now)

    def change_password(self, hashed_password: str, now: datetime) -> None:
        """A new password: every token issued before it stops working."""
        self.hashed_password = hashed_password
        self._revoke_tokens(now)

    def deactivate(self, now: datetime) -> None:
        self.is_active = False
        self._revoke_tokens(now)

    def activate(self, now: datetime) -> None:
        self.is_active = True
        self._touch(now)

    def mark_verified(self, now: datetime) -> None:
        self.is_verified = True
        self._touch(now)

    def change_email(self, email: Email, now: datetime) -> None:
        """A new address, proven by the link mailed to it: verified at once."""
        self.email = email
        self.is_verified = True
        self._touch(now)

    def enable_mfa(self, now: datetime) -> None:
        self.mfa_enabled = True
        self._touch(now)

    def disable_mfa(self, now: datetime) -> None:
        self.mfa_enabled = False
        self._touch(now)

    def _revoke_tokens(self, now: datetime) -> None:
        self.token_version += 1
        self._touch(now)

    def _touch(self, now: datetime) -> None:
        # Never move backwards, even if the clock does: clients rely on updated_at ordering.
        self.updated_at = max(now, self.updated_at)

    @property
    def permissions(self) -> tuple[str, ...]:
        own = ("users:read:self", "users:write:self")
        return (*own, "users:read:any", "users:write:any") if self.is_superuser else own
