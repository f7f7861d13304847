"""A deadline for every request: past it, the client gets 503 with Retry-After instead of
a connection that hangs (a stuck database, a saturated host). The handler is cancelled,
so its unit of work rolls back: nothing is half-written."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from neodyme_app.http.request_id import HEADER, request_id_of
from neodyme_app.http.schemas import ErrorBody, ErrorEnvelope


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
                await _send_timeout(scope, send, seconds)

        return middleware

    return wrap


async def _send_timeout(scope: Scope, send: Send, seconds: float) -> None:
    rid = request_id_of(scope)
    body = msgspec.json.encode(
        ErrorEnvelope(
            ErrorBody(
                "SERVICE_UNAVAILABLE",
                f"The request did not complete within {seconds:g} seconds, please retry",
                {"retry_after": 1},
                rid,
            )
        )
    )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 503,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", b"1"),
            (HEADER, rid.encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
