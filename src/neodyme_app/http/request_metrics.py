"""Count every HTTP request for the metrics: method, route template, status, duration.

The route is the template the router matched (``/api/v1/users/{user_id}``), never the raw
path or its query string: one series per route, however many users there are. A request
that matched no route (404, 405, a malformed path parameter) is counted under the route
``unmatched``, so that probing random paths cannot create series without bound.
``create_app`` wraps the whole router in this, not only the routes (Litestar's
``middleware=`` runs only for a request that matched a route): a 404 is counted too.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.types import ASGIApp, HTTPScope

from neodyme_app.container import Container
from neodyme_app.http.request_timing import after_each_request

UNMATCHED = "unmatched"


def request_metrics_middleware(container: Container) -> Callable[[ASGIApp], ASGIApp]:
    """The metrics object is looked up per request, not once: the unit tests serve one app
    for many containers, each with metrics of its own (``tests/unit/http/conftest.py``)."""

    def count(scope: HTTPScope, status: int | None, seconds: float) -> None:
        metrics = container.metrics()
        if metrics is not None:
            route = scope.get("path_template") or UNMATCHED
            metrics.observe_request(scope["method"], route, status, seconds)

    return after_each_request(count)
