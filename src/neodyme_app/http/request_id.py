"""Give every request an id: returned as ``X-Request-ID`` and in error bodies, and written
on every log record of the request (``neodyme_app.logs.REQUEST_ID``), so a user's bug
report can be matched to the server's log lines.

``create_app`` wraps the whole router in this middleware, not only the routes: a request
that matches no route (404, 405) has an id and log lines too."""

from __future__ import annotations

import uuid

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from neodyme_app.logs import REQUEST_ID

HEADER = b"x-request-id"


def request_id_of(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = uuid.uuid4().hex
    return str(state["request_id"])


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        rid = request_id_of(scope)
        value = rid.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == HEADER for name, _ in headers):
                    message["headers"] = [*headers, (HEADER, value)]
            await send(message)

        token = REQUEST_ID.set(rid)
        try:
            await app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)

    return middleware
