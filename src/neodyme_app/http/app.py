"""The Litestar application factory. No module-level app: the server calls a factory."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components

import neodyme_app
from neodyme_app import pages
from neodyme_app.container import Container
from neodyme_app.http.access_log import access_log_middleware
from neodyme_app.http.allow import complete_allow_header
from neodyme_app.http.api_page import SCHEMA_PATH, api_page, api_page_assets
from neodyme_app.http.auth_controller import AuthController
from neodyme_app.http.deadline import deadline_middleware
from neodyme_app.http.dependencies import provide_container, provide_origin
from neodyme_app.http.errors import EXCEPTION_HANDLERS, ApiError
from neodyme_app.http.federation_controller import (
    FederationController,
    MyIdentitiesController,
)
from neodyme_app.http.health_controller import HealthController
from neodyme_app.http.json_request import ApiRequest
from neodyme_app.http.metrics_controller import metrics_endpoint
from neodyme_app.http.mfa_controller import MfaAdminController, MfaController
from neodyme_app.http.openapi import SECURITY_SCHEMES, ApiDocumentation
from neodyme_app.http.passkeys_controller import MyPasskeysController, PasskeysController
from neodyme_app.http.request_id import request_id_middleware
from neodyme_app.http.request_metrics import request_metrics_middleware
from neodyme_app.http.sessions_controller import SessionsController
from neodyme_app.http.tokens_controller import IntrospectionController, WellKnownController
from neodyme_app.http.users_controller import UsersController
from neodyme_app.key_ring_refresh import KeyRingRefresh
from neodyme_domain.passwords import shortest_password

JSON_TYPES = ("application/json", "application/problem+json")


async def require_json_body(request: Request[Any, Any, Any]) -> None:
    """415 for a body that is not JSON, on routes that take one (before any parsing); the
    pages take forms."""
    handler = request.route_handler
    if handler.parsed_data_field is None or handler.opt.get(pages.FORM_BODY):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES and not content_type.endswith("+json"):
        raise ApiError("UNSUPPORTED_MEDIA_TYPE", "The request body must be application/json")


def create_app(container: Container) -> Litestar:
    settings = container.settings()
    keys = KeyRingRefresh(container)

    async def start_background_work() -> None:
        # Built now, with its dummy hash: the first unknown-address login of the process
        # then costs one verify, what a wrong password costs (Argon2Hasher).
        container.hasher()
        await keys.start()
        container.dispatcher().start(container.deliver_outbox, status=container.outbox_status)

    async def stop_background_work() -> None:
        await keys.stop()
        await container.dispatcher().stop()
        if not settings.uses_memory_storage:
            await container.engine().dispose()
        container.hasher().close()

    app = Litestar(
        route_handlers=[
            AuthController,
            UsersController,
            SessionsController,
            MfaController,
            MfaAdminController,
            PasskeysController,
            MyPasskeysController,
            FederationController,
            MyIdentitiesController,
            HealthController,
            WellKnownController,
            IntrospectionController,
            *([api_page_assets()] if settings.docs else []),
            *([pages.page_router(settings), pages.static_files()] if settings.pages else []),
            # On its own port instead (the server's main process): see metrics_server.py.
            *([metrics_endpoint] if settings.metrics and not settings.metrics_port else []),
        ],
        dependencies={
            "container": Provide(provide_container, sync_to_thread=False),
            "origin": Provide(provide_origin, sync_to_thread=False),
        },
        state=State({"container": container}),
        middleware=[deadline_middleware(settings.request_timeout)],
        request_class=ApiRequest,  # undecodable JSON of any kind: 400, not 500
        before_request=require_json_body,
        before_send=[complete_allow_header],  # Litestar 2 lists too few methods on OPTIONS
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=pages.templates() if settings.pages else None,
        request_max_body_size=settings.max_body_bytes,
        on_startup=[start_background_work],
        on_shutdown=[stop_background_work],
        # Every error response a route can give, documented; new passwords' length too.
        plugins=[ApiDocumentation(shortest_password(settings.password_policy))],
        openapi_config=OpenAPIConfig(
            title="neodyme",
            version=neodyme_app.__version__,
            description="User accounts and authentication.",
            path=SCHEMA_PATH,
            components=Components(security_schemes=dict(SECURITY_SCHEMES)),
            render_plugins=[api_page()],  # its files served by neodyme: no CDN
        )
        if settings.docs
        else None,
        debug=False,
        logging_config=None,  # ours (neodyme_app.logs), with request ids, stays in place
    )
    # Around the router, not in ``middleware=`` (run only for a request that matched a
    # route): a 404 or a 405 gets its id, log lines and access line too.
    router = app.asgi_handler
    if settings.metrics:
        router = request_metrics_middleware(container)(router)
    if settings.access_log_enabled:
        router = access_log_middleware(container.trusted_proxies())(router)
    app.asgi_handler = request_id_middleware(router)
    return app
