"""The metrics of ``neodyme serve``: summed over its worker processes, and optionally served
on a port of their own by the main process.

Each worker writes its values to files of one directory (the Prometheus client's
multiprocess mode), and a scrape adds up the files of every worker, whichever process
answers it. The client chooses that mode when it is first imported, from
``PROMETHEUS_MULTIPROC_DIR``, and granian forks its workers from this process: so the
variable is set here before anything imports the client, which this module imports only
inside its functions. The directory is new for each run (no figures of a previous run,
whose counters Prometheus saw reset anyway) and removed when the server stops.

With ``NEODYME_METRICS_PORT``, the main process serves the metrics on that port (on the
host the API listens on), from a thread, and the workers serve no ``/metrics``: the API
port can then face the public while the metrics port stays behind a firewall.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from neodyme_app.config import Settings

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""The client's own name (``neodyme_adapters.prometheus_metrics``), repeated here so that
this module does not import the client before the variable is set."""


@contextmanager
def serving_metrics(settings: Settings, host: str) -> Iterator[None]:
    """Around ``Granian(...).serve()``: the workers' metrics directory, and the metrics
    port if one is set. Nothing with ``NEODYME_METRICS=false``."""
    if not settings.metrics:
        yield
        return
    directory = tempfile.mkdtemp(prefix="neodyme-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = directory
    try:
        if settings.metrics_port is None:
            yield
            return
        from prometheus_client import start_http_server

        from neodyme_app.metrics_scrape import main_process_registry

        registry = main_process_registry(settings, directory)
        server, _ = start_http_server(settings.metrics_port, addr=host, registry=registry)
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
