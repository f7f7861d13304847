"""Keyset pagination with opaque cursors.

A page is "the next ``limit`` items strictly after a position" in a total order (a
timestamp, then the id to break ties), never an offset: items added while a client walks
the pages cannot shift the pages, so every item present at the start is seen exactly once.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from neodyme_domain.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True, order=True)
class Position:
    at: datetime
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None

    def checked(self) -> tuple[int, Position | None]:
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise ValidationFailed("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        return self.limit, decode_cursor(self.cursor) if self.cursor else None


FIRST_PAGE = PageRequest()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(position: Position) -> str:
    raw = f"{position.at.isoformat()}|{position.id}".encode()
    # Without the padding ("=" pads the end, and appears nowhere else): decode_cursor adds it.
    return base64.urlsafe_b64encode(raw).decode().replace("=", "")


def decode_cursor(cursor: str) -> Position:
    try:
        # The padding encode_cursor strips: two "=" at most, and the decoder ignores excess.
        raw = base64.urlsafe_b64decode(cursor + "==").decode()
        at, _, ident = raw.partition("|")
        position = Position(datetime.fromisoformat(at), uuid.UUID(ident))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("cursor", "is not a cursor this server issued") from None
    if position.at.tzinfo is None:
        raise ValidationFailed("cursor", "is not a cursor this server issued")
    try:
        # Issued cursors are in UTC; one in another offset whose instant UTC cannot hold
        # (year 1 at +14:00) was an OverflowError, and a 500, where it was compared.
        return Position(position.at.astimezone(UTC), position.id)
    except OverflowError:
        raise ValidationFailed("cursor", "is not a cursor this server issued") from None


def page_of(rows: list[T], limit: int, position_of: Callable[[T], Position]) -> Page[T]:
    """Rows fetched with ``limit + 1``: the extra one only says that a next page exists."""
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items, encode_cursor(position_of(items[-1])) if more and items else None)
