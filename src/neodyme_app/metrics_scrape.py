"""What a scrape of the metrics reads from the database: the outbox, once per scrape.

Those figures are the same whichever process reads them, so they are read at scrape time
(not written by each worker, where they would be summed), with one query bounded by
``NEODYME_DB_TIMEOUT``. A database that does not answer costs the scrape its outbox
figures (``neodyme_outbox_up 0``), never the scrape itself: the other metrics are what an
operator needs most while the database is down.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator

from dependency_injector import providers
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from neodyme_adapters.prometheus_metrics import OutboxCollector, ProcessesCollector
from neodyme_adapters.sqlalchemy.engine import within
from neodyme_app.config import Settings
from neodyme_app.container import Container, build_container

logger = logging.getLogger("neodyme.metrics")


async def read_outbox(container: Container) -> OutboxCollector:
    try:
        backlog = await within(container.settings().db_timeout, container.outbox_status()())
    except Exception as error:  # whatever it is, the scrape goes on without these figures
        # The class only: a driver's message may quote SQL or the database URL.
        logger.warning("metrics: the outbox could not be read (%s)", type(error).__name__)
        backlog = None
    return OutboxCollector(backlog, container.clock().now())


def main_process_registry(settings: Settings, multiprocess_dir: str) -> CollectorRegistry:
    """What the metrics port serves (``metrics_server.py``): the workers' metrics, summed,
    and the outbox as this process reads it."""
    registry = CollectorRegistry()
    registry.register(ProcessesCollector(multiprocess_dir))
    if not settings.uses_memory_storage:  # memory:// lives in the worker, out of reach here
        registry.register(_OutboxFromMainProcess(settings))
    return registry


class _OutboxFromMainProcess(Collector):
    """The outbox read by the server's main process, on a connection of its own. Scrapes
    come on threads of the metrics server: each runs its query in an event loop of its own,
    one at a time, and closes its connection before that loop ends."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._container: Container | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            collector = asyncio.run(self._read())
        yield from collector.collect()

    async def _read(self) -> OutboxCollector:
        container = self._built()
        try:
            return await read_outbox(container)
        finally:
            await container.engine().dispose()

    def _built(self) -> Container:
        if self._container is None:
            container = build_container(self._settings)
            # This process serves no request: its connection is no part of the pools the
            # workers report.
            container.metrics.override(providers.Object(None))
            self._container = container
        return self._container
