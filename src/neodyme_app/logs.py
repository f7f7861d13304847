"""Logging setup: a text line for people or a JSON object a line for log shippers, and on
every record logged while a request is handled, that request's id.

The id travels in a context variable (set by the request id middleware) rather than in
``extra=``: the records of libraries and of code far from the handler (the hasher, the
unit of work) carry it too, and an asyncio task started by the request inherits it.

JSON is a small stdlib ``Formatter`` encoding with msgspec (already a dependency), rather
than python-json-logger or structlog: the fields are fixed by api.md, the record's
``extra=`` fields follow, and neither library would replace more than these few lines.
"""

from __future__ import annotations

import functools
import logging
import time
from contextvars import ContextVar
from typing import Any

import msgspec

from neodyme_app.config import LogFormat

REQUEST_ID: ContextVar[str | None] = ContextVar("neodyme_request_id", default=None)
"""The id of the request being handled in this context; None outside a request."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def granian_logging() -> dict[str, Any]:
    """granian's ``log_dictconfig``: its own loggers lose their handlers and pass their
    records to ours (the root logger's), so that its start-up and worker lines have our
    format, and a JSON consumer reads them as it reads neodyme's. (A new dict each time:
    granian writes the level into the one it is given.) granian applies it with
    ``dictConfig``, which closes every handler: ``configure_logging`` must come after."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {},
        "handlers": {},
        "loggers": {
            "_granian": {"handlers": [], "propagate": True},
            "granian.access": {"handlers": [], "propagate": True},
        },
    }


_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",  # Python 3.12+
}
"""A LogRecord's own attributes: anything else on a record came from ``extra=``."""


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id (``missing`` outside a request).
    A ``request_id`` passed explicitly with ``extra=`` is kept."""

    def __init__(self, missing: str | None) -> None:
        super().__init__()
        self.missing = missing

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get() or self.missing
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601, milliseconds), ``level``,
    ``logger``, ``message``, ``request_id`` (null outside a request), then the record's
    ``extra=`` fields (one named like a field above is kept as ``extra_<name>``), then
    ``exc_info`` / ``stack_info`` as one string each: a traceback never spans lines.

    Values msgspec cannot encode are written as their ``repr()``: a log call never fails
    because of what it was handed."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_FIELDS:
                document[f"extra_{name}" if name in document else name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exc_info"] = record.exc_text
        if record.stack_info:
            document["stack_info"] = self.formatStack(record.stack_info)
        try:
            return _encode(document).decode()
        except (TypeError, ValueError, OverflowError, RecursionError):
            # e.g. a dict extra with tuple keys, or a structure that contains itself
            return _encode({name: _plain(value) for name, value in document.items()}).decode()


_encode = msgspec.json.Encoder(enc_hook=repr).encode


def _message(record: logging.LogRecord) -> str:
    """The message; for a call whose arguments do not fit its format string, both, rather
    than logging's multi-line "--- Logging error ---" report on standard error."""
    try:
        return record.getMessage()
    except (TypeError, ValueError):
        return f"{record.msg!r} % {record.args!r}"


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float | bool) else repr(value)


def _utc_time(record: logging.LogRecord) -> str:
    return f"{_utc_second(int(record.created))}.{int(record.msecs):03d}Z"


@functools.lru_cache(maxsize=4)
def _utc_second(seconds: int) -> str:
    # Formatted once a second rather than once a record (the access log writes many).
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def configure_logging(level: str, log_format: LogFormat = LogFormat.TEXT) -> None:
    """Every record goes through one handler on the root logger (standard error): neodyme's,
    the libraries', granian's (``granian_logging``) and Python's warnings."""
    handler = logging.StreamHandler()
    if log_format is LogFormat.JSON:
        handler.addFilter(RequestIdFilter(missing=None))
        handler.setFormatter(JsonFormatter())
    else:
        handler.addFilter(RequestIdFilter(missing="-"))
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)
