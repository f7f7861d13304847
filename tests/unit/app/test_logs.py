"""The log formats: a JSON object a line that a log shipper can always parse, the text line
as before, and the request id on records logged inside a request."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from neodyme_app.config import Environment, LogFormat, Settings, SettingsError
from neodyme_app.logs import REQUEST_ID, JsonFormatter, RequestIdFilter, configure_logging

ISO_UTC_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def record(
    message: str = "hello %s",
    args: tuple[object, ...] = ("world",),
    *,
    level: int = logging.INFO,
    extra: dict[str, Any] | None = None,
    exc_info: Any = None,
) -> logging.LogRecord:
    made = logging.getLogger("neodyme.test").makeRecord(
        "neodyme.test", level, __file__, 1, message, args, exc_info, extra=extra
    )
    RequestIdFilter(missing=None).filter(made)
    return made


@contextmanager
def handling(request_id: str) -> Iterator[None]:
    """As the request id middleware does while a request is handled."""
    token = REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


def as_json(made: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter().format(made)
    assert "\n" not in line
    document = json.loads(line)
    assert isinstance(document, dict)
    return document


def test_a_json_line_has_the_fields_of_api_md() -> None:
    document = as_json(record())

    assert list(document) == ["time", "level", "logger", "message", "request_id"]
    assert document["level"] == "INFO"
    assert document["logger"] == "neodyme.test"
    assert document["message"] == "hello world"
    assert document["request_id"] is None  # outside a request
    assert ISO_UTC_MS.match(document["time"]), document["time"]


def test_the_time_is_utc_with_milliseconds() -> None:
    made = record()
    made.created, made.msecs = 1_767_225_600.042, 42.0  # 2026-01-01T00:00:00.042 UTC

    assert as_json(made)["time"] == "2026-01-01T00:00:00.042Z"


def test_extra_fields_follow_with_their_json_types() -> None:
    document = as_json(
        record(extra={"pending": 181, "reason": "STARTTLS extension not supported", "ok": False})
    )

    assert document["pending"] == 181
    assert document["reason"] == "STARTTLS extension not supported"
    assert document["ok"] is False


def test_an_extra_named_like_a_field_does_not_replace_it() -> None:
    document = as_json(record(extra={"time": "yesterday", "level": "loud"}))

    assert ISO_UTC_MS.match(document["time"])
    assert document["level"] == "INFO"
    assert document["extra_time"] == "yesterday"
    assert document["extra_level"] == "loud"


def test_an_exception_is_one_string_field_on_one_line() -> None:
    try:
        raise ValueError("the reason\nover two lines")
    except ValueError:
        made = record("delivery failed", (), level=logging.ERROR, exc_info=sys.exc_info())

    document = as_json(made)

    assert document["exc_info"].startswith("Traceback (most recent call last):")
    assert "ValueError: the reason\nover two lines" in document["exc_info"]


def test_unicode_and_control_characters_survive_the_round_trip() -> None:
    text = 'Zoë 日本 "quoted" back\\slash\ttab\r\nnew line \u2028 \x00'
    document = as_json(record("%s", (text,), extra={"full_name": text}))

    assert document["message"] == text
    assert document["full_name"] == text


def test_values_json_cannot_hold_are_written_as_their_repr() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque thing>"

    user_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    document = as_json(
        record(extra={"thing": Opaque(), "user_id": user_id, "nan": float("nan"), "big": 2**80})
    )

    assert document["thing"] == "<Opaque thing>"
    assert document["user_id"] == str(user_id)
    assert document["nan"] is None
    assert document["big"] == 2**80


def test_structures_json_cannot_encode_fall_back_to_repr() -> None:
    looped: list[object] = []
    looped.append(looped)

    document = as_json(record(extra={"by_pair": {(1, 2): "x"}, "looped": looped}))

    assert document["by_pair"] == "{(1, 2): 'x'}"
    assert document["looped"] == "[[...]]"
    assert document["message"] == "hello world"


def test_a_log_call_with_wrong_arguments_still_gives_one_json_line() -> None:
    document = as_json(record("%d apples", ("many",)))

    assert document["message"] == "'%d apples' % ('many',)"


def test_the_request_id_of_the_current_context_is_on_the_record() -> None:
    with handling("abc123"):
        inside = record()

    assert as_json(inside)["request_id"] == "abc123"
    assert as_json(record())["request_id"] is None


def test_an_explicit_request_id_is_kept() -> None:
    with handling("from-context"):
        made = record(extra={"request_id": "explicit"})

    assert made.request_id == "explicit"  # type: ignore[attr-defined]


async def test_tasks_started_by_a_request_carry_its_id() -> None:
    request_over = asyncio.Event()

    async def log_later() -> logging.LogRecord:
        await request_over.wait()
        return record()

    with handling("parent-request"):
        task = asyncio.create_task(log_later())
    request_over.set()

    assert (await task).request_id == "parent-request"  # type: ignore[attr-defined]


@pytest.fixture
def root_logging() -> Iterator[None]:
    """configure_logging replaces the root logger's handlers: put pytest's back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("root_logging")
def test_configure_logging_json_writes_every_record_as_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", LogFormat.JSON)
    with handling("rid-1"):
        logging.getLogger("neodyme.outbox").warning("delivery failing", extra={"pending": 3})
    logging.getLogger("somelibrary").debug("below the level")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("an old API", DeprecationWarning, stacklevel=1)

    lines = capsys.readouterr().err.splitlines()

    documents = [json.loads(line) for line in lines]
    assert [d["logger"] for d in documents] == ["neodyme.outbox", "py.warnings"]
    assert documents[0]["request_id"] == "rid-1"
    assert documents[0]["pending"] == 3
    assert documents[0]["level"] == "WARNING"
    assert "an old API" in documents[1]["message"]


@pytest.mark.usefixtures("root_logging")
def test_configure_logging_text_keeps_the_request_id_in_brackets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", LogFormat.TEXT)
    with handling("rid-2"):
        logging.getLogger("neodyme.http").info("inside")
    logging.getLogger("neodyme.http").info("outside")

    inside, outside = capsys.readouterr().err.splitlines()

    assert inside.endswith(" INFO neodyme.http [rid-2] inside")
    assert outside.endswith(" INFO neodyme.http [-] outside")


TESTING = {
    "NEODYME_ENVIRONMENT": "testing",
    "NEODYME_SECRET_KEY": "a-test-secret-key-of-at-least-32-bytes-long",
}


def test_the_log_format_is_text_unless_set() -> None:
    assert Settings.from_env(TESTING).log_format is LogFormat.TEXT
    assert Settings.from_env(TESTING | {"NEODYME_LOG_FORMAT": "json"}).log_format is LogFormat.JSON
    with pytest.raises(SettingsError, match="NEODYME_LOG_FORMAT='xml' is not valid"):
        Settings.from_env(TESTING | {"NEODYME_LOG_FORMAT": "xml"})


def test_the_access_log_setting_reads_on_and_off() -> None:
    assert Settings.from_env(TESTING).access_log is None
    assert Settings.from_env(TESTING | {"NEODYME_ACCESS_LOG": "off"}).access_log is False
    assert Settings.from_env(TESTING | {"NEODYME_ACCESS_LOG": "on"}).access_log is True
    with pytest.raises(SettingsError, match="NEODYME_ACCESS_LOG='loud' is not valid"):
        Settings.from_env(TESTING | {"NEODYME_ACCESS_LOG": "loud"})


@pytest.mark.parametrize(
    ("environment", "access_log", "log_level", "enabled"),
    [
        (Environment.DEVELOPMENT, None, "INFO", False),
        (Environment.TESTING, None, "INFO", True),
        (Environment.PRODUCTION, None, "INFO", True),
        (Environment.DEVELOPMENT, True, "INFO", True),
        (Environment.PRODUCTION, False, "INFO", False),
        (Environment.PRODUCTION, True, "DEBUG", True),
        (Environment.PRODUCTION, True, "WARNING", False),  # its lines are INFO records
    ],
)
def test_the_access_log_is_on_except_in_development_unless_set(
    environment: Environment, access_log: bool | None, log_level: str, enabled: bool
) -> None:
    settings = Settings(environment=environment, access_log=access_log, log_level=log_level)

    assert settings.access_log_enabled is enabled
