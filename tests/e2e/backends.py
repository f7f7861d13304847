"""Fixtures that run a module's tests on every database neodyme supports: import them into
the module (``from tests.e2e.backends import cli, database, server``), and its tests get the
session server, database reader and CLI of each backend in turn (``each_backend``, ids
``[postgres]`` and ``[sqlite]``); ``api`` follows ``server``. SQLite is the default backend
of a fresh install, PostgreSQL the one production is told to use: a journey must work on
both.
"""

from __future__ import annotations

import pytest

from tests.e2e.api import Cli, Database
from tests.e2e.conftest import Backend, Server

__all__ = ["cli", "database", "server"]


@pytest.fixture
def server(each_backend: Backend) -> Server:
    return each_backend.server


@pytest.fixture
def database(each_backend: Backend) -> Database:
    return each_backend.database


@pytest.fixture
def cli(each_backend: Backend) -> Cli:
    return each_backend.cli
