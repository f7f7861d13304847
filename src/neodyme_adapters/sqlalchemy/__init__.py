"""Persistence on SQLAlchemy 2 Core: PostgreSQL through psycopg 3, SQLite through aiosqlite.

The app builds one engine (``make_engine``) and one session factory
(``make_sessionmaker``), makes a ``SqlAlchemyUnitOfWork`` per use case call, migrates
with ``upgrade`` and probes readiness with ``ping``.
"""

from neodyme_adapters.sqlalchemy.engine import (
    SQLITE_BEGIN_MODE,
    make_engine,
    make_sessionmaker,
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
    "make_sessionmaker",
    "metadata",
    "ping",
    "to_async_url",
    "upgrade",
]
