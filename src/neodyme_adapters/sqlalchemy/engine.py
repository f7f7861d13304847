"""Engines for PostgreSQL (psycopg 3) and SQLite (aiosqlite), and the readiness probe.

SQLite: one writer at a time, by design
----------------------------------------
SQLite allows one writer per database file. In a *deferred* transaction (the default
``BEGIN``) a connection that has read and then wants to write must upgrade its lock; if
another connection wrote in between, SQLite fails at once with SQLITE_BUSY ("database is
locked"), because waiting cannot help, so ``busy_timeout`` is not honoured there. That is
the classic read-then-write deadlock, and every use case here reads before it writes (look
up the e-mail, then insert).

So pysqlite's own transaction handling is switched off and every transaction starts with
``BEGIN IMMEDIATE``: the write lock is taken at the start, where ``busy_timeout`` *is*
honoured, so concurrent writers (coroutines of this process or other processes) queue for
up to ``SQLITE_BUSY_TIMEOUT_MS`` instead of failing. WAL journal mode lets readers outside
a transaction proceed meanwhile.

The trade-off: read-only transactions serialise with writers too. For the embedded default
(one small service, short transactions) that costs little and buys correctness without
retry loops; a deployment that needs concurrent throughput uses PostgreSQL. A caller that
knows it only reads can opt out per connection with the execution option
``{SQLITE_BEGIN_MODE: "DEFERRED"}``, as ``ping`` does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from neodyme_adapters.sqlalchemy.errors import is_unavailable
from neodyme_adapters.sqlalchemy.pool_metrics import PoolObserver, observe_pool
from neodyme_domain.errors import ServiceUnavailable

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_BEGIN_MODE = "neodyme_sqlite_begin"
"""Execution option naming the SQLite BEGIN mode: "IMMEDIATE" (default) or "DEFERRED"."""

POSTGRES_CONNECT_TIMEOUT_S = 5

T = TypeVar("T")
logger = logging.getLogger(__name__)
_abandoned: set[asyncio.Future[Any]] = set()
"""Work given up on by ``within`` that is still unwinding: referenced so it is not
garbage-collected half-way."""

_SQLITE_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def to_async_url(url: str | URL) -> URL:
    """The URL with the async driver neodyme uses; ``ValueError`` for anything else.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://``; ``sqlite://``
    becomes ``sqlite+aiosqlite://``. An in-memory SQLite database is refused: every pooled
    connection would see its own empty database (use the in-memory adapters instead).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in {"postgresql", "postgres"}:
        if parsed.drivername not in {"postgresql", "postgres", "postgresql+psycopg"}:
            raise ValueError(
                f"unsupported PostgreSQL driver {parsed.drivername!r}: use postgresql+psycopg://"
            )
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.drivername not in {"sqlite", "sqlite+aiosqlite"}:
            raise ValueError(
                f"unsupported SQLite driver {parsed.drivername!r}: use sqlite+aiosqlite:///path.db"
            )
        if not parsed.database or parsed.database == ":memory:" or "mode=memory" in str(parsed):
            raise ValueError(
                "an in-memory SQLite database cannot be shared by a connection pool: "
                "use sqlite+aiosqlite:///path/to/file.db or the in-memory adapters"
            )
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(
        f"unsupported database URL scheme {parsed.drivername!r}: "
        "use postgresql+psycopg://... or sqlite+aiosqlite:///path.db"
    )


def ensure_sqlite_directory(url: str | URL) -> None:
    """Create the parent directory of a SQLite database file (no-op for other URLs)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        database = parsed.database
        if database.startswith("file:"):  # URI filename: file:path?options
            database = database[len("file:") :].split("?", 1)[0]
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout: float = 5.0,
    echo: bool = False,
    pool_observer: PoolObserver | None = None,
) -> AsyncEngine:
    """An engine for ``url`` (see ``to_async_url``), configured for concurrent use.

    ``pool_size`` is a hard cap (no overflow): a connection beyond it would be opened for
    one unit of work and closed at check-in, and under load that churn (a PostgreSQL
    backend started per request, a thread per aiosqlite connection) showed up in the
    profile of GET /auth/me at 16 concurrent clients. Units of work are short, so a
    request waits for a pooled connection instead, for at most ``pool_timeout``.

    SQL parameters are never put into error messages or logs (``hide_parameters``): they
    include password hashes and e-mail addresses.

    ``pool_observer`` (the metrics) is told the pool's size and connections in use.
    """
    async_url = to_async_url(url)
    options: dict[str, Any] = {
        "echo": echo,
        "hide_parameters": True,
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": pool_timeout,
    }
    if async_url.get_backend_name() == "sqlite":
        ensure_sqlite_directory(async_url)
        engine = create_async_engine(async_url, **options)
        _install_sqlite_hooks(engine)
    else:
        if "connect_timeout" not in async_url.query:
            options["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
        # pre_ping: a connection the server dropped (restart, idle timeout) is replaced
        # instead of failing the first request that draws it from the pool.
        engine = create_async_engine(async_url, pool_pre_ping=True, **options)
    if pool_observer is not None:
        observe_pool(engine, pool_observer)
    return engine


async def within(
    seconds: float,
    work: Awaitable[T],
    after_abandon: Callable[[], Awaitable[object]] | None = None,
) -> T:
    """``await work``, but raise ``TimeoutError`` after ``seconds`` *at once*.

    ``asyncio.wait_for`` would wait for the cancelled work to unwind first, and psycopg
    answers the cancellation of a statement that is waiting for a silent server (the
    pool's pre-ping on a connection whose server is unreachable, say) by trying for ten
    seconds to cancel it server-side over a new connection, then closing it. So the work
    runs as a task of its own which, past the deadline, is cancelled and left to unwind in
    the background; ``after_abandon`` (e.g. closing the session) runs when it has. The
    same happens when the caller itself is cancelled while waiting.
    """
    task = asyncio.ensure_future(work)
    # What ``asyncio.wait({task}, timeout=seconds)`` does, without its bookkeeping (sets,
    # a waiter per call, a callback list walk): this runs at every connection checkout.
    waiter = asyncio.get_running_loop().create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = asyncio.get_running_loop().call_later(seconds, wake)
    task.add_done_callback(wake)
    try:
        await waiter
    except BaseException:
        _abandon(task, after_abandon)
        raise
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    if not task.done():
        _abandon(task, after_abandon)
        raise TimeoutError(f"no answer from the database within {seconds:g}s")
    return task.result()


def _abandon(task: asyncio.Future[Any], after: Callable[[], Awaitable[object]] | None) -> None:
    task.cancel()
    _abandoned.add(task)

    def unwound(finished: asyncio.Future[Any]) -> None:
        _abandoned.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            logger.debug("abandoned database work failed", exc_info=finished.exception())
        if after is not None:
            cleanup = asyncio.ensure_future(after())
            _abandoned.add(cleanup)
            cleanup.add_done_callback(_forget)

    task.add_done_callback(unwound)


def _forget(finished: asyncio.Future[Any]) -> None:
    _abandoned.discard(finished)
    if not finished.cancelled() and finished.exception() is not None:
        logger.debug("cleanup after abandoned database work failed", exc_info=finished.exception())


async def ping(engine: AsyncEngine, within_seconds: float | None = None) -> None:
    """Run ``SELECT 1``; raise ``ServiceUnavailable`` if the database cannot answer (within
    ``within_seconds``, if given: see ``within``)."""
    try:
        if within_seconds is None:
            await _select_one(engine)
        else:
            await within(within_seconds, _select_one(engine))
    except TimeoutError as error:
        raise ServiceUnavailable(context={"cause": "timeout"}) from error
    except Exception as error:
        if is_unavailable(error):
            raise ServiceUnavailable(context={"cause": type(error).__name__}) from error
        raise


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execution_options(**{SQLITE_BEGIN_MODE: "DEFERRED"})
        await connection.execute(text("SELECT 1"))


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    # The recipe of SQLAlchemy's SQLite docs ("Enabling Non-Legacy SQLite Transactional
    # Modes"), with BEGIN IMMEDIATE: see the module docstring.

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # pysqlite must not emit BEGIN itself (it would be DEFERRED, and only before DML).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = str(connection.get_execution_options().get(SQLITE_BEGIN_MODE, "IMMEDIATE"))
        if mode.upper() not in _SQLITE_BEGIN_MODES:
            raise ValueError(f"{SQLITE_BEGIN_MODE} must be one of {sorted(_SQLITE_BEGIN_MODES)}")
        connection.exec_driver_sql(f"BEGIN {mode.upper()}")
