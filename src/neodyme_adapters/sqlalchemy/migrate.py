"""Run the Alembic migrations from code: no alembic.ini, the scripts ship in the package.

``upgrade`` and ``downgrade`` are synchronous and run the migration in an event loop of
their own (``asyncio.run`` in ``migrations/env.py``), so call them from synchronous code:
a CLI command, a deployment script, a test fixture. From a coroutine, hand them to a
thread: ``await asyncio.to_thread(upgrade, url)``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from neodyme_adapters.sqlalchemy.engine import ensure_sqlite_directory, to_async_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

# Alembic is imported when a migration runs, not when the package is: it would add a
# quarter of a second to every start of the service for a command run once per deploy.


def alembic_config(database_url: str) -> Config:
    """An Alembic ``Config`` for the packaged migrations against ``database_url``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = to_async_url(database_url).render_as_string(
        hide_password=False
    )
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` up to ``revision``.

    A SQLite file and its parent directory are created if missing. Safe to run on a
    current database (it does nothing) and from several processes at once.
    """
    _refuse_running_loop("upgrade")
    ensure_sqlite_directory(to_async_url(database_url))
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database at ``database_url`` down to ``revision`` ("base": empty)."""
    _refuse_running_loop("downgrade")
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def _refuse_running_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"{name}() runs its own event loop and cannot be called from a coroutine; "
        f"use 'await asyncio.to_thread({name}, url, ...)'"
    )
