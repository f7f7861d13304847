"""Cursors are opaque to clients, so a client can send anything as one: the server answers
each with a page or with 422, never with a 500 (the API fuzzer sends only cursors the
server issued, as the document cannot say which strings those are)."""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
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


ID = uuid.UUID("0b7e4c3a-9a54-4d4e-8f0e-2f1d6c5b4a39")


@pytest.mark.parametrize(
    "cursor",
    [
        b64("nonsense"),  # no position at all
        "not base64!",
        b64(f"2025-03-01T12:00:00|{ID}"),  # an instant without its offset
        b64(f"0001-01-01T00:00:00+14:00|{ID}"),  # before the first instant UTC can hold
        b64(f"2025-03-01|12:00:00+00:00|{ID}"),  # "|" also separates date and time here
    ],
)
def test_a_cursor_the_server_did_not_issue_is_refused_in_the_clients_words(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        decode_cursor(cursor)

    assert raised.value.details == {
        "fields": [{"field": "cursor", "message": "is not a cursor this server issued"}]
    }


@pytest.mark.parametrize(
    "at",
    [datetime(2025, 3, 1, 12, 0, tzinfo=UTC), datetime(2025, 3, 1, 12, 0, 0, 1, tzinfo=UTC)],
)
@pytest.mark.parametrize("ident", [str(ID), ID.hex, f"{{{ID}}}", ID.urn])
def test_a_cursor_reads_back_whatever_its_length_and_so_its_missing_padding(
    at: datetime, ident: str
) -> None:
    # Two spellings of an instant (microseconds or none) times four of an id: unpadded
    # lengths of every kind (a multiple of four, or two or three beyond one).
    cursor = b64(f"{at.isoformat()}|{ident}")

    assert decode_cursor(cursor) == Position(at, ID)


def test_an_issued_cursor_is_url_safe_text_without_padding() -> None:
    for at in (datetime(2025, 3, 1, 12, 0, tzinfo=UTC), datetime(2025, 3, 1, 12, 0, 0, 1, UTC)):
        assert re.fullmatch(r"[A-Za-z0-9_-]+", encode_cursor(Position(at, ID)))


@pytest.fixture
def local_zone_far_from_utc() -> Iterator[None]:
    """This process's local time zone at UTC+14 (a POSIX rule: no zone database needed)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "LINT-14"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.mark.usefixtures("local_zone_far_from_utc")
def test_a_position_is_read_in_utc_whatever_the_servers_local_zone() -> None:
    at = datetime(2025, 3, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))

    position = decode_cursor(b64(f"{at.isoformat()}|{ID}"))

    assert position.at == at
    assert position.at.utcoffset() == timedelta(0)
