"""Every error leaves in the envelope of api.md, with the request id, and nothing else.

Domain errors map code -> status through one table (a unit test checks every domain code
is in it). Framework errors (unknown route, wrong method, malformed JSON, oversized body,
schema violations) get the same envelope. Anything unexpected is logged with its request
id and answered with a generic 500: no stack trace or SQL ever reaches a client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from neodyme_app.http.request_id import request_id_of
from neodyme_app.http.schemas import ErrorBody, ErrorEnvelope
from neodyme_domain.errors import DomainError, InvalidLink, RetryLater

log = logging.getLogger("neodyme.http")

STATUS_BY_CODE: Mapping[str, int] = {
    "BAD_REQUEST": 400,
    "WEAK_PASSWORD": 400,
    "INVALID_CREDENTIALS": 401,
    "INVALID_CLIENT": 401,
    "NOT_AUTHENTICATED": 401,
    "INVALID_TOKEN": 401,
    "TOKEN_REUSED": 401,
    "MFA_REQUIRED": 401,
    "INVALID_CODE": 401,
    "ACCOUNT_INACTIVE": 403,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "USER_NOT_FOUND": 404,
    "SESSION_NOT_FOUND": 404,
    "PASSKEY_INVALID": 400,
    "PASSKEY_REFUSED": 401,
    "INVALID_CHALLENGE": 400,
    "PASSKEY_ALREADY_REGISTERED": 409,
    "PASSKEY_NOT_FOUND": 404,
    "PROVIDER_NOT_FOUND": 404,
    "IDENTITY_NOT_FOUND": 404,
    "FEDERATION_REFUSED": 400,
    "PROVIDER_EMAIL_UNVERIFIED": 403,
    "LINK_REQUIRED": 409,
    "IDENTITY_TAKEN": 409,
    "LAST_SIGN_IN_METHOD": 409,
    "PROVIDER_UNAVAILABLE": 503,
    "METHOD_NOT_ALLOWED": 405,
    "EMAIL_ALREADY_EXISTS": 409,
    "MFA_ALREADY_ENABLED": 409,
    "MFA_NOT_ENABLED": 409,
    "MFA_SETUP_REQUIRED": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "VALIDATION_ERROR": 422,
    "TOO_MANY_ATTEMPTS": 429,
    "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}

_FRAMEWORK_CODES: Mapping[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "The request body is not valid JSON"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    413: ("PAYLOAD_TOO_LARGE", "The request body is too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "The request body must be application/json"),
}


class ApiError(Exception):
    """An error that only exists at the HTTP edge (no bearer token, wrong content type)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_response(
    request: Request[Any, Any, Any],
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    status: int | None = None,
    retry_after: int | None = None,
) -> Response[ErrorEnvelope]:
    status = status or STATUS_BY_CODE[code]
    rid = request_id_of(request.scope)
    # Set here too: errors raised before routing (404, 405) bypass the middleware.
    headers = {"X-Request-ID": rid}
    if status == 401:
        # A resource server authenticates with HTTP Basic (RFC 7662 section 2.1).
        headers["WWW-Authenticate"] = (
            'Basic realm="neodyme"' if code == "INVALID_CLIENT" else "Bearer"
        )
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body = ErrorEnvelope(ErrorBody(code, message, dict(details or {}), rid))
    return Response(body, status_code=status, headers=headers)


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if exc.code not in STATUS_BY_CODE:
        return handle_unexpected(request, exc)
    log.info(
        "%s %s -> %s %s",
        request.method,
        request.url.path,
        exc.code,
        exc.context,
        extra={"request_id": request_id_of(request.scope)},
    )
    retry_after = exc.retry_after if isinstance(exc, RetryLater) else None
    return error_response(request, exc.code, exc.message, exc.details, status_of(exc), retry_after)


def status_of(exc: DomainError) -> int:
    # A one-time link arrives in the body, not as credentials: a bad one is a bad request.
    return 400 if isinstance(exc, InvalidLink) else STATUS_BY_CODE[exc.code]


def handle_api_error(request: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    return error_response(request, exc.code, exc.message)


_FIELD_IN_MESSAGE = re.compile(r"field `([^`]+)`")


def _fields(exc: ValidationException) -> list[dict[str, str]]:
    fields = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "is not valid"))
        key = str(item.get("key", ""))
        named = _FIELD_IN_MESSAGE.search(message)
        if key in {"", "data"} and named:  # missing/unknown fields are reported on the body
            key = named.group(1)
        fields.append({"field": key or "body", "message": message})
    return fields


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, ValidationException):
        if _is_missing_body(exc):
            return error_response(request, "BAD_REQUEST", "A JSON request body is required")
        return error_response(
            request, "VALIDATION_ERROR", "The request is not valid", {"fields": _fields(exc)}
        )
    if exc.status_code in _FRAMEWORK_CODES:
        code, message = _FRAMEWORK_CODES[exc.status_code]
        response = error_response(request, code, message, status=exc.status_code)
        # What the framework says about the error stays said: 405 names the methods the
        # route has in ``Allow`` (RFC 9110, 15.5.6).
        for name, value in (exc.headers or {}).items():
            response.headers.setdefault(name, value)
        return response
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        return handle_unexpected(request, exc)
    return error_response(
        request, "BAD_REQUEST", "The request was not understood", status=exc.status_code
    )


def _is_missing_body(exc: ValidationException) -> bool:
    # An empty body reaches Litestar's validation as a missing ``data`` parameter.
    return isinstance(exc.extra, list) and any(
        item.get("key") == "data" and item.get("message") == "'data'" for item in exc.extra
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    rid = request_id_of(request.scope)
    log.error(
        "unhandled error in %s %s (request %s)",
        request.method,
        request.url.path,
        rid,
        exc_info=exc,
    )
    return error_response(request, "INTERNAL_ERROR", f"Internal error (request id {rid})")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: handle_domain_error,
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}


class DocumentedErrors(dict[int, ResponseSpec]):
    """A route's ``responses=``: the error codes of its own use cases. ``ApiDocumentation``
    (openapi.py) adds what every route of its kind can answer and documents the headers of each."""

    def __init__(self, codes: Iterable[str | tuple[str, int]]) -> None:
        self.codes = tuple(codes)
        super().__init__(response_specs(self.codes))


def documented_errors(*codes: str | tuple[str, int]) -> DocumentedErrors:
    """OpenAPI response entries for the error codes a route's own use cases can answer. A
    ``(code, status)`` pair documents a code answered with another status than usual.
    What the framework or the route's kind adds (malformed or oversized bodies, missing
    credentials, 500, 503) is added by ``ApiDocumentation`` (openapi.py): do not list it
    here."""
    return DocumentedErrors(codes)


def response_specs(codes: Iterable[str | tuple[str, int]]) -> dict[int, ResponseSpec]:
    by_status: dict[int, set[str]] = {}
    for entry in codes:
        code, status = entry if isinstance(entry, tuple) else (entry, STATUS_BY_CODE[entry])
        by_status.setdefault(status, set()).add(code)
    return {
        status: ResponseSpec(
            data_container=ErrorEnvelope,
            generate_examples=False,
            description="Error: " + ", ".join(sorted(names)),
        )
        for status, names in sorted(by_status.items())
    }
