"""Entry point for ASGI servers: ``uvicorn --factory neodyme_app.http.asgi:app_from_environment``.

Each server worker process builds its own container from the environment (settings were
already validated by the CLI before the workers started).
"""

from __future__ import annotations

from litestar import Litestar

from neodyme_app.config import Settings
from neodyme_app.container import build_container
from neodyme_app.http.app import create_app
from neodyme_app.logs import configure_logging


def app_from_environment() -> Litestar:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(build_container(settings))
