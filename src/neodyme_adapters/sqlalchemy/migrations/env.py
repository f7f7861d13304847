"""Alembic environment: async mode over the same engines the service uses.

The database URL comes from ``config.attributes["database_url"]``, which
``neodyme_adapters.sqlalchemy.migrate`` sets (an attribute rather than the
``sqlalchemy.url`` option, so a password with ``%`` in it needs no escaping). Online
migrations run on ``make_engine``'s engine through ``AsyncConnection.run_sync``, so SQLite
gets the same pragmas (WAL, foreign keys) and ``BEGIN IMMEDIATE`` as at run time, and
``asyncio.run`` gives them an event loop of their own: which is why ``upgrade()`` must not
be called from inside a running loop.

The whole upgrade is one transaction on both databases (SQLite's DDL is transactional
once pysqlite no longer manages BEGIN). Concurrent upgrades (several replicas starting at
once) are serialised: by an advisory lock on PostgreSQL, by the write lock on SQLite; the
later one finds the schema current and does nothing.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from neodyme_adapters.sqlalchemy.engine import make_engine, to_async_url
from neodyme_adapters.sqlalchemy.tables import metadata

# An arbitrary constant shared by every neodyme process: "a schema migration is running".
MIGRATION_LOCK_KEY = 0x6E656F64  # "neod"

config = context.config
target_metadata = metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database URL: run migrations with neodyme_adapters.sqlalchemy.migrate.upgrade(url)"
        )
    return str(url)


def run_migrations_offline() -> None:
    """``--sql`` mode: print the SQL instead of running it."""
    url = to_async_url(_database_url())
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        transactional_ddl=True,
        compare_type=True,
        # SQLite cannot ALTER most things: future revisions use batch operations there.
        # But never on a table that others reference with ON DELETE CASCADE (users): the
        # batch's DROP TABLE deletes its rows with the foreign keys on, cascading to the
        # children, and foreign keys cannot be switched off inside this transaction. See
        # versions/0002 for plain ALTERs instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = make_engine(_database_url(), pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
