"""A deadline for every request: past it, the client gets 503 with Retry-After instead of
a connection that hangs (a stuck database, a saturated host). The handler is cancelled,
so its unit of work rolls back: nothing is half-written."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from neodyme_domain.errors import ServiceUnavailable


def deadline_middleware(seconds: float) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = False

            async def tracking_send(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                # asyncio.timeout, not wait_for: no task of its own for every request.
                async with asyncio.timeout(seconds):
                    await app(scope, receive, tracking_send)
            except TimeoutError:
                if started:
                    raise  # too late for another answer; the server closes the connection
                # Answered like every other error (errors.py): the envelope, Retry-After,
                # X-Request-ID and the log line come from one place.
                raise ServiceUnavailable(
                    f"The request did not complete within {seconds:g} seconds, please retry",
                    context={"cause": "deadline", "seconds": seconds},
                ) from None

        return middleware

    return wrap
