"""Database helpers shared by the contract and e2e suites."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from neodyme_adapters.sqlalchemy.tables import metadata


async def empty_tables(engine: AsyncEngine, *, truncate: bool = False) -> None:
    """Delete every row of neodyme's tables (not Alembic's version table), so a test
    leaves nothing behind for the next one on the same database.

    DELETE, children first, by default: on a test's handful of rows it takes about a
    millisecond, where PostgreSQL's TRUNCATE (new files, an fsync per table) takes about
    200 ms, which would dominate the contract suite. ``truncate=True`` uses
    ``TRUNCATE ... CASCADE`` on PostgreSQL, for tables that have grown large.
    """
    async with engine.begin() as connection:
        if truncate and connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} CASCADE"))
            return
        for table in reversed(metadata.sorted_tables):
            await connection.execute(table.delete())
