"""Persistence on SQLAlchemy 2 Core: PostgreSQL through psycopg 3, SQLite through aiosqlite.

The app builds one engine (``make_engine``), makes a ``SqlAlchemyUnitOfWork`` over it
per use case call, migrates
with ``upgrade`` and probes readiness with ``ping``.
"""

from neodyme_adapters.sqlalchemy.engine import (
    SQLITE_BEGIN_MODE,
    make_engine,
    ping,
    to_async_url,
)
from neodyme_adapters.sqlalchemy.migrate import downgrade, upgrade
from neodyme_adapters.sqlalchemy.repositories import (
    SqlAlchemyEventRecorder,
    SqlAlchemyLoginThrottle,
    SqlAlchemyOneTimeTokenStore,
    SqlAlchemyOutbox,
    SqlAlchemyRefreshTokenStore,
    SqlAlchemyUserRepository,
)
from neodyme_adapters.sqlalchemy.tables import metadata
from neodyme_adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

__all__ = [
    "SQLITE_BEGIN_MODE",
    "SqlAlchemyEventRecorder",
    "SqlAlchemyLoginThrottle",
    "SqlAlchemyOneTimeTokenStore",
    "SqlAlchemyOutbox",
    "SqlAlchemyRefreshTokenStore",
    "SqlAlchemyUnitOfWork",
    "SqlAlchemyUserRepository",
    "downgrade",
    "make_engine",
    "metadata",
    "ping",
    "to_async_url",
    "upgrade",
]
