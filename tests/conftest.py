"""Settings of the test process itself, for every tier: what keeps a pytest process (each
xdist worker is one) from spending seconds on anything but the tests."""

from __future__ import annotations

import gc
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

# Under mutation testing (mutmut sets MUTANT_UNDER_TEST in every test process it starts),
# the same examples for every mutant (derandomize: a mutant's verdict must not depend on
# luck), no example database to carry one mutant's failures into the next, fewer examples
# (each mutant runs the tests that reach the mutated function: hundreds of times over),
# and no complaint that mutmut's trampolines make a test look like it runs under other
# executors.
settings.register_profile(
    "mutation",
    derandomize=True,
    database=None,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.differing_executors, HealthCheck.too_slow],
)
if os.environ.get("MUTANT_UNDER_TEST"):
    settings.load_profile("mutation")

# pytest rewrites the assert statements of every test module and conftest (about fifty)
# when it imports them, and caches the result in __pycache__ (ignored by git) like any
# bytecode, unless the environment sets PYTHONDONTWRITEBYTECODE: then every pytest process
# rewrites them all again, half a second each time. Cached while collecting, whatever the
# environment says; the setting is restored once the tests are collected.
_dont_write_bytecode = sys.dont_write_bytecode
sys.dont_write_bytecode = False


def pytest_collection_finish(session: pytest.Session) -> None:
    sys.dont_write_bytecode = _dont_write_bytecode
    # Spare the garbage collector what collection imported: about a million objects
    # (Litestar, SQLAlchemy, hypothesis, the tests) that live as long as the process, and
    # that every full collection would walk again, thousands of times in a run.
    # ``gc.freeze()`` moves them out of the collector's sight (without a collection first:
    # that would cost more than the little import-time garbage it would free); the higher
    # first threshold makes collections rarer (hypothesis and the HTTP tests allocate a
    # lot, little of it cyclic). Garbage is still collected, and pytest's last collections
    # at the end of the run still turn an unraisable exception into an error.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


@pytest.fixture(autouse=True)
def _invented_people_of_this_test(request: pytest.FixtureRequest) -> None:
    """The people a test invents (tests/support/builders.py) depend on the test alone, not
    on the tests run before it in the same process: deterministic under xdist."""
    from tests.support.builders import PEOPLE  # after the bytecode setting above

    PEOPLE.start(request.node.nodeid)
