"""A PostgreSQL server for the tests, and scratch databases on it.

``resolve_postgres_url()`` finds the server: ``NEODYME_TEST_DATABASE_URL`` if set (it must
answer), else the development default, else (not on CI) a throwaway server started with
the ``pgserver`` package. Nothing is ever skipped for want of a server: CI fails loudly.

Each pytest-xdist worker and the e2e suite then work in a database of their own
(``scratch_database``), so parallel runs never see each other's rows.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ENV_VAR = "NEODYME_TEST_DATABASE_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PROBE_TIMEOUT_S = 2

_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_servers: list[Any] = []  # keeps pgserver handles alive for the life of the process


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL for the tests, and starting one is not allowed or failed."""


def libpq_conninfo(url: str | URL) -> str:
    """The libpq URI (what psycopg.connect takes) for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _probe(url: str) -> Exception | None:
    try:
        with psycopg.connect(libpq_conninfo(url), connect_timeout=PROBE_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")
    except (psycopg.Error, OSError) as error:
        return error
    return None


@functools.cache
def resolve_postgres_url() -> str:
    """The SQLAlchemy URL of a reachable PostgreSQL server; cached per process."""
    configured = os.environ.get(ENV_VAR)
    url = configured or DEFAULT_URL
    error = _probe(url)
    if error is None:
        return url
    if configured:
        raise PostgresUnavailable(
            f"{ENV_VAR}={configured!r} is not reachable; start that server, or unset the "
            f"variable to use the default (or a throwaway) one. Cause: {error}"
        ) from error
    if os.environ.get("CI", "").lower() == "true":
        raise PostgresUnavailable(
            f"PostgreSQL at {DEFAULT_URL} is not reachable and CI=true forbids starting a "
            f"throwaway server; provide the service or set {ENV_VAR}. Cause: {error}"
        ) from error
    return start_throwaway_server()


def start_throwaway_server(pgdata: Path | None = None) -> str:
    """Start (or join) a ``pgserver`` PostgreSQL and return its SQLAlchemy URL.

    The default data directory is shared by every process of this user, so the workers of
    one pytest-xdist run share one server; ``pgserver`` stops it when the last process
    that uses it exits, and keeps the directory so the next run starts quickly.
    """
    try:
        import pgserver
    except ImportError as error:  # pragma: no cover - a dev dependency
        raise PostgresUnavailable(
            "PostgreSQL is unreachable and the pgserver package is not installed"
        ) from error
    if pgdata is None:
        pgdata = Path(tempfile.gettempdir()) / f"neodyme-test-pgserver-{os.getuid()}"
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as error:
        raise PostgresUnavailable(f"could not start a throwaway PostgreSQL: {error}") from error
    _servers.append(server)
    # pgserver gives a libpq URI over its unix socket: postgresql://postgres:@/db?host=/dir
    libpq = make_url(server.get_uri(database="postgres"))
    return libpq.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _check_name(name: str) -> str:
    if not _DATABASE_NAME.match(name):
        raise ValueError(f"not a safe database name: {name!r}")
    return name


def scratch_database(base_url: str, name: str, *, template: str | None = None) -> str:
    """(Re)create an empty database ``name`` on ``base_url``'s server; return its URL.

    ``template``: a copy of that database instead (nobody may be connected to it), e.g. one
    migrated once, which is much faster than migrating each copy.
    """
    _check_name(name)
    drop_database(base_url, name)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(_check_name(template)))
    with psycopg.connect(libpq_conninfo(base_url), autocommit=True) as conn:
        conn.execute(create)
        # A scratch database need not survive a server crash: commits skip the WAL flush,
        # which otherwise dominates the run time of many small transactions.
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name))
        )
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, name: str) -> None:
    """Drop database ``name`` on ``base_url``'s server, even if sessions are still open."""
    _check_name(name)
    if make_url(base_url).database == name:
        raise ValueError(f"refusing to drop {name!r}: it is the database of the base URL")
    with psycopg.connect(libpq_conninfo(base_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
