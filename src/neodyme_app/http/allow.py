"""OPTIONS answers with every method of the path in ``Allow``.

Litestar 2 answers OPTIONS itself, but on a path that two handlers of one controller
serve (PATCH and DELETE /users/me, GET and PATCH /users/{user_id}) its ``Allow`` names
the methods of only one of them (litestar-org/litestar#4169, fixed in Litestar 3). This
hook writes the header from the app's routes instead.
"""

from __future__ import annotations

from litestar.routes import HTTPRoute
from litestar.types import Message, Scope


async def complete_allow_header(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    template = scope.get("path_template")
    app = scope.get("litestar_app")
    if template is None or app is None:
        return
    methods = {
        method
        for route in app.routes
        if isinstance(route, HTTPRoute) and route.path_format == template
        for method in route.methods
    }
    if methods:
        headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
        message["headers"] = [*headers, (b"allow", ", ".join(sorted(methods)).encode())]
