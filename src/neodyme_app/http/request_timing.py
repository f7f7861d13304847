"""Call back after each HTTP request with its status and duration, once the response was
sent or the request failed: what the request metrics need (and the access log, which
times requests the same way in ``access_log.py``).

Meant to wrap the whole router (``create_app``), so that a request that matched no route
is seen too: ``scope["path_template"]`` is then absent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

Finished = Callable[[HTTPScope, int | None, float], None]
"""``(scope, status, seconds)``; status None: no response was started (the client went
away, or the server failed before answering)."""


def after_each_request(finished: Finished) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status: int | None = None

            async def send_noting_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_noting_status)
            finally:
                finished(scope, status, time.perf_counter() - started)

        return middleware

    return wrap
