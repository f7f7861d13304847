"""Cursors are opaque to clients, so a client can send anything as one: the server answers
each with a page or with 422, never with a 500 (the API fuzzer sends only cursors the
server issued, as the document cannot say which strings those are)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from neodyme_domain import ValidationFailed
from neodyme_domain.pagination import Position, decode_cursor, encode_cursor
from tests.unit.domain.helpers import b64

# Whole minutes, as ISO 8601 writes offsets (Python 3.11's fromisoformat drops the
# seconds and microseconds of an offset like +00:00:00.000001, which no real zone has).
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timedelta(minutes=minutes)
)
instants = st.datetimes(timezones=st.builds(timezone, offsets))


@given(st.one_of(st.text(), st.text().map(b64)))
def test_any_text_is_a_position_or_a_validation_error(cursor: str) -> None:
    with contextlib.suppress(ValidationFailed):
        assert decode_cursor(cursor).at.tzinfo == UTC


@given(instants, st.uuids())
def test_a_position_in_any_offset_is_read_in_utc_or_refused(at: datetime, ident: object) -> None:
    cursor = b64(f"{at.isoformat()}|{ident}")
    try:
        position = decode_cursor(cursor)
    except ValidationFailed:
        # The instant is outside what a UTC datetime holds (year 1 at +14:00, ...).
        try:
            at.astimezone(UTC)
        except OverflowError:
            return
        raise
    assert position.at == at
    assert position.at.tzinfo == UTC


@given(st.datetimes(timezones=st.just(UTC)), st.uuids())
def test_issued_cursors_read_back(at: datetime, ident: object) -> None:
    position = Position(at, ident)  # type: ignore[arg-type]
    assert decode_cursor(encode_cursor(position)) == position
