"""Keeps a process's ``KeyRing`` in step with the stored signing keys.

``start`` makes sure a key of the configured algorithm signs (``EnsureSigningKey``) and
loads the keys before the process serves; then it reloads them every
``NEODYME_JWT_KEY_PUBLISH_SECONDS`` / 3, so a key ``neodyme keys rotate`` adds is held by
every process before it signs. A reload that fails (the database is away) keeps the keys
held: they stay valid, and the next reload catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from neodyme_app.container import Container

log = logging.getLogger("neodyme.keys")


class KeyRingRefresh:
    def __init__(self, container: Container) -> None:
        self._container = container
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Nothing to do for HS256 (no ring)."""
        settings = self._container.settings()
        algorithm = settings.signing_algorithm
        if algorithm is None:
            return
        if await self._container.ensure_signing_key()(algorithm):
            log.info("signing key added: access tokens are now signed with %s", algorithm)
        await self.reload()
        self._task = asyncio.get_running_loop().create_task(
            self._run(settings.key_reload_seconds), name="neodyme-key-ring"
        )

    async def reload(self) -> None:
        ring = self._container.key_ring()
        if ring is not None:
            ring.load([status.key for status in await self._container.list_signing_keys()()])

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)  # a period, not a synchronisation
            try:
                await self.reload()
            except Exception:  # the loop must outlive any one failure
                log.warning("signing keys not reloaded; keeping the ones held", exc_info=True)
