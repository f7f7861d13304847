"""neodyme inside another Python program: no HTTP, same use cases, same rules.

    async with open_neodyme(Settings(database_url="memory://", secret_key="...")) as app:
        result = await app.register_user()(RegisterCommand(...))

On an SQL database the schema is migrated on entry; on exit, pending e-mails get one last
delivery attempt (the rest stay in the outbox for the next run) and connections close.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from neodyme_adapters.sqlalchemy import upgrade
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container
from neodyme_app.outbox_dispatcher import OutboxDispatcher


@asynccontextmanager
async def open_neodyme(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Container]:
    if migrate and not settings.uses_memory_storage:
        # Alembic runs its own event loop: keep it off ours.
        await asyncio.to_thread(upgrade, settings.database_url)
    container = build_container(settings)
    try:
        yield container
        await OutboxDispatcher.drain(container.deliver_outbox)
    finally:
        if not settings.uses_memory_storage:
            await container.engine().dispose()
        container.hasher().close()
