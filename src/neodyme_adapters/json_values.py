"""What a JSON column keeps of a value: shared by the SQL adapters, which store it, and the
in-memory ones, which must hand back the same types (the contract suites compare them:
an event's ``data`` read back holds the string of a UUID, never the UUID, on every store)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def to_json(value: Any) -> Any:
    """A JSON-storable copy: UUIDs and datetimes become strings, tuples become lists."""
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
