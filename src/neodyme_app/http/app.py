"""The Litestar application factory. No module-level app: the server calls a factory."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components

import neodyme_app
from neodyme_app.container import Container
from neodyme_app.http.allow import complete_allow_header
from neodyme_app.http.auth_controller import AuthController
from neodyme_app.http.deadline import deadline_middleware
from neodyme_app.http.dependencies import provide_container, provide_origin
from neodyme_app.http.errors import EXCEPTION_HANDLERS, ApiError
from neodyme_app.http.health_controller import HealthController
from neodyme_app.http.json_request import ApiRequest
from neodyme_app.http.openapi import SECURITY_SCHEMES, ApiDocumentation
from neodyme_app.http.request_id import request_id_middleware
from neodyme_app.http.users_controller import UsersController

JSON_TYPES = ("application/json", "application/problem+json")


async def require_json_body(request: Request[Any, Any, Any]) -> None:
    """415 for a body that is not JSON, on routes that take one (before any parsing)."""
    if request.route_handler.parsed_data_field is None:
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES and not content_type.endswith("+json"):
        raise ApiError("UNSUPPORTED_MEDIA_TYPE", "The request body must be application/json")


def create_app(container: Container) -> Litestar:
    settings = container.settings()

    async def start_background_work() -> None:
        container.dispatcher().start(container.deliver_outbox)

    async def stop_background_work() -> None:
        await container.dispatcher().stop()
        if not settings.uses_memory_storage:
            await container.engine().dispose()
        container.hasher().close()

    return Litestar(
        route_handlers=[AuthController, UsersController, HealthController],
        dependencies={
            "container": Provide(provide_container, sync_to_thread=False),
            "origin": Provide(provide_origin, sync_to_thread=False),
        },
        state=State({"container": container}),
        middleware=[request_id_middleware, deadline_middleware(settings.request_timeout)],
        request_class=ApiRequest,  # undecodable JSON of any kind: 400, not 500
        before_request=require_json_body,
        before_send=[complete_allow_header],  # Litestar 2 lists too few methods on OPTIONS
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        on_startup=[start_background_work],
        on_shutdown=[stop_background_work],
        plugins=[ApiDocumentation()],  # every error response a route can give, documented
        openapi_config=OpenAPIConfig(
            title="neodyme",
            version=neodyme_app.__version__,
            description="User accounts and authentication.",
            path="/schema",
            components=Components(security_schemes=dict(SECURITY_SCHEMES)),
            render_plugins=[SwaggerRenderPlugin()],
        )
        if settings.docs
        else None,
        debug=False,
        logging_config=None,  # ours (neodyme_app.logs), with request ids, stays in place
    )
