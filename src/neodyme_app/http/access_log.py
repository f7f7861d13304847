"""One line per request on the ``neodyme.access`` logger, written when the response has
been sent (or the request failed): method, route template, status, duration and client.

The route is the template (``/api/v1/users/{user_id}``), never the path: a path holds
ids, and a query string may hold a token (a client that puts one there should not have it
copied into every log). A request that matches no route is logged with route ``null``
(``-`` in text). The request id comes with every record of the request (see ``logs.py``):
the request id middleware wraps this one. granian's own access log stays off, as it logs
the raw path and query string.

The client is the address that login throttling uses (``client_address``: the socket
peer, or what trusted proxies forwarded), so a log line and a lockout name the same client.
Requests are timed as the request metrics time them (``request_timing``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence

from litestar.types import ASGIApp, HTTPScope

from neodyme_app.http.client_address import IpNetwork, client_address
from neodyme_app.http.request_timing import after_each_request

log = logging.getLogger("neodyme.access")

FORWARDED_FOR = b"x-forwarded-for"


def access_log_middleware(trusted_proxies: Sequence[IpNetwork]) -> Callable[[ASGIApp], ASGIApp]:
    # Parsing addresses costs more than the rest of the line, and clients (or the proxies
    # in front) come back: resolved once per (peer, X-Forwarded-For).
    @functools.lru_cache(maxsize=4096)
    def client_of(peer: str | None, forwarded: tuple[str, ...]) -> str | None:
        return client_address(peer, forwarded, trusted_proxies)

    def write(scope: HTTPScope, status: int | None, seconds: float) -> None:
        """``status`` None: no response was started (the client went away, or the server
        failed before answering)."""
        if not log.isEnabledFor(logging.INFO):
            return
        method = scope["method"]
        route = scope.get("path_template") or None  # set by the router; absent for a 404
        duration_ms = round(seconds * 1000, 3)
        peer = scope.get("client")
        forwarded = tuple(
            value.decode("latin-1") for name, value in scope["headers"] if name == FORWARDED_FOR
        )
        client = client_of(peer[0] if peer else None, forwarded)
        log.info(
            "%s %s %s %.1fms %s",
            method,
            route or "-",
            status or "-",
            duration_ms,
            client or "-",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "client": client,
            },
        )

    return after_each_request(write)
