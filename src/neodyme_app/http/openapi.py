"""The OpenAPI document describes every response a route can give, not only its success.

Each route lists the error codes of its own use cases (``documented_errors``). What a
route can answer because of what it is, ``ApiDocumentation`` adds, from the route itself:

- a body: 400 (not JSON, or none), 413 (over the size limit), 415 (not JSON by its
  content type), 422 (not the schema);
- query or path parameters: 422;
- a bearer token (the ``current_user`` or ``signed_in`` dependency): 401, and the
  security scheme;
- every route: 500 (a bug) and 503 (the database does not answer, the server is
  saturated, or the request ran past its deadline).

Every response documents its headers: ``X-Request-ID`` always, ``WWW-Authenticate`` on
401, ``Retry-After`` on 429 and 503. Request bodies are closed (``additionalProperties:
false``), as the server refuses unknown fields with 422.

The API fuzzing test (tests/e2e/test_fuzzing.py) holds the server to this document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.plugins import OpenAPISchemaPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from neodyme_app.http.errors import DocumentedErrors, response_specs
from neodyme_app.http.schemas import Body

AUTHENTICATING = frozenset({"current_user", "signed_in"})
"""The dependencies that read a bearer token (``neodyme_app.http.dependencies``)."""

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

BEARER_SCHEME = "BearerToken"
CLIENT_SCHEME = "IntrospectionClient"
SECURITY_SCHEMES: Mapping[str, SecurityScheme] = {
    BEARER_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="The access token of POST /auth/register, /auth/login or /auth/refresh.",
    ),
    CLIENT_SCHEME: SecurityScheme(
        type="http",
        scheme="basic",
        description="A resource server of NEODYME_INTROSPECTION_CLIENTS: its id and secret.",
    ),
}
"""For ``OpenAPIConfig(components=...)``: the scheme the authenticated routes name."""

EVERY_ROUTE = ("INTERNAL_ERROR", "SERVICE_UNAVAILABLE")
WITH_BODY = ("BAD_REQUEST", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "VALIDATION_ERROR")
WITH_PARAMETERS = ("VALIDATION_ERROR",)
AUTHENTICATED = ("NOT_AUTHENTICATED", "INVALID_TOKEN")

_NOT_PARAMETERS = frozenset(
    {"request", "socket", "state", "scope", "headers", "cookies", "query", "body", "data"}
)
"""Handler arguments that Litestar fills in itself, or the body: not query/path parameters."""


def _header(description: str, schema: Schema) -> OpenAPIHeader:
    return OpenAPIHeader(schema=schema, description=description, required=True)


REQUEST_ID_HEADER = _header(
    "This request's id, also in error bodies and in the server's log lines about it.",
    Schema(type=OpenAPIType.STRING, min_length=1),
)
RETRY_AFTER_HEADER = _header(
    "Seconds to wait before trying again.", Schema(type=OpenAPIType.INTEGER, minimum=0)
)
WWW_AUTHENTICATE_HEADER = _header(
    "How to authenticate: `Bearer`, or `Basic` at introspection (RFC 9110, 11.6.1).",
    Schema(type=OpenAPIType.STRING),
)


def document_headers(responses: Mapping[str, OpenAPIResponse | Reference]) -> None:
    for status, response in responses.items():
        if not isinstance(response, OpenAPIResponse):
            continue
        headers = response.headers = dict(response.headers or {})
        headers["X-Request-ID"] = REQUEST_ID_HEADER
        if status == "401":
            headers["WWW-Authenticate"] = WWW_AUTHENTICATE_HEADER
        if status in {"429", "503"}:
            headers["Retry-After"] = RETRY_AFTER_HEADER


@cache
def _operation_class(statuses: frozenset[str]) -> type[Operation]:
    """An ``Operation`` that keeps only the statuses the route can answer (Litestar adds a
    400 of its own, with another body, to every route with parameters) and documents the
    headers of each response.

    One class per set of statuses, made once per process: making a dataclass costs about a
    millisecond, and every app (each server worker, each test's app) registers 40 routes."""

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            responses = {
                status: response
                for status, response in (self.responses or {}).items()
                if status in statuses or status.startswith("2")
            }
            document_headers(responses)
            self.responses = responses

    return DocumentedOperation


class ApiDocumentation(ReceiveRoutePlugin, OpenAPISchemaPlugin):
    """Litestar plugin: completes each route's responses (see the module docstring) as the
    route is registered, and closes the schemas of request bodies, whose new passwords
    get ``minLength``: ``shortest_password``, the active policy's shortest."""

    def __init__(self, shortest_password: int) -> None:
        self._done: set[int] = set()
        self._shortest_password = shortest_password

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if id(handler) in self._done:  # a route is received again for each method added
                continue
            self._done.add(id(handler))
            own = handler.responses or {}
            codes = [*(own.codes if isinstance(own, DocumentedErrors) else ()), *EVERY_ROUTE]
            dependencies = handler.resolve_dependencies()
            if handler.parsed_data_field is not None:
                codes += WITH_BODY
            arguments = set(handler.parsed_fn_signature.parameters)
            if arguments - set(dependencies) - _NOT_PARAMETERS:
                codes += WITH_PARAMETERS
            if AUTHENTICATING & set(dependencies):
                codes += AUTHENTICATED
                handler.security = [*(handler.security or ()), {BEARER_SCHEME: []}]
            others = {} if isinstance(own, DocumentedErrors) else dict(own)
            handler.responses = {**response_specs(codes), **others}
            handler.operation_class = _operation_class(
                frozenset(str(status) for status in handler.responses)
            )

    # Request bodies: the Struct's own schema, closed.

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return not field_definition.is_union and field_definition.is_subclass_of(Body)

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        struct_plugin = next(
            plugin
            for plugin in schema_creator.plugins
            if plugin is not self and schema_creator.plugin_supports_field(plugin, field_definition)
        )
        schema: Any = struct_plugin.to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        for name in field_definition.annotation.new_passwords:
            schema.properties[name].min_length = self._shortest_password
        return schema  # type: ignore[no-any-return]
