"""neodyme without HTTP: the container's lifetime for the CLI, benchmarks and ``neodyme.open``.

    async with open_neodyme(Settings(database_url="memory://", secret_key="...")) as app:
        result = await app.register_user()(RegisterCommand(...))

Other Python programs use the typed face built on it, ``neodyme.open`` (one method per use
case, ``neodyme_app.accounts``), rather than the container's providers.

On an SQL database the schema is migrated on entry; on exit, pending e-mails get one last
delivery attempt (the rest stay in the outbox for the next run) and connections close.
``deliver=False`` skips that attempt: ``neodyme outbox status`` and ``retry`` only look at
or re-queue the outbox, and must neither wait for a mail server nor count an attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from neodyme_adapters.sqlalchemy import upgrade
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container
from neodyme_app.key_ring_refresh import KeyRingRefresh
from neodyme_app.outbox_dispatcher import OutboxDispatcher


@asynccontextmanager
async def open_neodyme(
    settings: Settings, *, migrate: bool = True, deliver: bool = True
) -> AsyncIterator[Container]:
    if migrate and not settings.uses_memory_storage:
        # Alembic runs its own event loop: keep it off ours.
        await asyncio.to_thread(upgrade, settings.database_url)
    container = build_container(settings)
    container.hasher()  # its dummy hash made now, not by the first unknown-address login
    keys = KeyRingRefresh(container)
    try:
        await keys.start()
        yield container
        if deliver:
            await OutboxDispatcher.drain(container.deliver_outbox)
    finally:
        await keys.stop()
        if not settings.uses_memory_storage:
            await container.engine().dispose()
        container.hasher().close()
