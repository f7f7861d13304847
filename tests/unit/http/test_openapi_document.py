"""The OpenAPI document is valid 3.1 and describes every response of every operation: the
statuses each kind of route can give, the error envelope, and the headers of each.

(The API fuzzing test in tests/e2e/test_fuzzing.py holds the real server to it.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

Document = dict[str, Any]
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
BODY_ERRORS = {"400", "413", "415", "422"}


@pytest.fixture
async def document(client: Any) -> Document:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_the_document_is_valid_openapi_3_1(document: Document) -> None:
    # Imported here: the validator brings jsonschema, werkzeug and more (0.15 s), which
    # every xdist worker would otherwise import while collecting, for this one test.
    from openapi_spec_validator import validate

    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_operation_documents_500_and_503(document: Document) -> None:
    for label, operation in operations(document):
        assert {"500", "503"} <= set(operation["responses"]), label


def test_every_error_response_is_the_envelope(document: Document) -> None:
    for label, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                content = response["content"]
                assert content == {"application/json": {"schema": ENVELOPE}}, (label, status)


def test_every_response_names_its_request_id_header(document: Document) -> None:
    for label, operation in operations(document):
        for status, response in operation["responses"].items():
            assert response["headers"]["X-Request-ID"]["required"], (label, status)


def test_retry_after_is_documented_where_it_is_sent(document: Document) -> None:
    for label, operation in operations(document):
        for status, response in operation["responses"].items():
            documented = "Retry-After" in response["headers"]
            assert documented == (status in {"429", "503"}), (label, status)


def test_routes_with_a_body_document_what_a_bad_body_gets(document: Document) -> None:
    for label, operation in operations(document):
        if "requestBody" in operation:
            assert set(operation["responses"]) >= BODY_ERRORS, label


def test_request_bodies_refuse_unknown_fields(document: Document) -> None:
    schemas = document["components"]["schemas"]
    for label, operation in operations(document):
        if "requestBody" in operation:
            content = operation["requestBody"]["content"]
            if "application/json" not in content:  # RFC 7662: other parameters MAY come
                assert list(content) == ["application/x-www-form-urlencoded"], label
                assert label == "POST /api/v1/auth/introspect"
                continue
            ref = content["application/json"]["schema"]["$ref"]
            assert schemas[ref.rsplit("/", 1)[1]]["additionalProperties"] is False, label


def test_authenticated_routes_name_the_scheme_and_document_401(document: Document) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["BearerToken"]["description"],
    }
    authenticated = {
        label for label, operation in operations(document) if operation.get("security")
    }
    assert authenticated == {
        "GET /api/v1/auth/me",
        "POST /api/v1/auth/change-password",
        "POST /api/v1/auth/request-verification",
        "GET /api/v1/users",
        "PATCH /api/v1/users/me",
        "DELETE /api/v1/users/me",
        "GET /api/v1/users/me/events",
        "GET /api/v1/users/{user_id}",
        "PATCH /api/v1/users/{user_id}",
        "POST /api/v1/users/me/email",
        "POST /api/v1/auth/mfa/totp/setup",
        "POST /api/v1/auth/mfa/totp/confirm",
        "POST /api/v1/auth/mfa/recovery-codes",
        "POST /api/v1/auth/mfa/totp/disable",
        "DELETE /api/v1/users/{user_id}/mfa",
        "GET /api/v1/users/me/sessions",
        "DELETE /api/v1/users/me/sessions",
        "DELETE /api/v1/users/me/sessions/{session_id}",
        "GET /api/v1/users/{user_id}/sessions",
        "DELETE /api/v1/users/{user_id}/sessions",
        "DELETE /api/v1/users/{user_id}/sessions/{session_id}",
        "POST /api/v1/auth/passkeys/register/options",
        "POST /api/v1/auth/passkeys/register/verify",
        "GET /api/v1/users/me/passkeys",
        "PATCH /api/v1/users/me/passkeys/{passkey_id}",
        "DELETE /api/v1/users/me/passkeys/{passkey_id}",
        "POST /api/v1/auth/introspect",
        "GET /api/v1/users/me/identities",
        "DELETE /api/v1/users/me/identities/{identity_id}",
    }
    for label, operation in operations(document):
        if label == "POST /api/v1/auth/introspect":  # a resource server, not a user
            assert operation["security"] == [{"IntrospectionClient": []}]
            assert schemes["IntrospectionClient"]["scheme"] == "basic"
            assert "INVALID_CLIENT" in operation["responses"]["401"]["description"]
        elif label in authenticated:
            assert operation["security"] == [{"BearerToken": []}], label
            unauthorized = operation["responses"]["401"]
            assert "NOT_AUTHENTICATED" in unauthorized["description"], label
            assert unauthorized["headers"]["WWW-Authenticate"]["required"], label


def test_only_routes_with_input_document_422(document: Document) -> None:
    without_input = {
        label
        for label, operation in operations(document)
        if "requestBody" not in operation and not operation.get("parameters")
    }
    assert without_input == {
        "GET /api/v1/auth/me",
        "POST /api/v1/auth/request-verification",
        "GET /api/v1/users/me/sessions",
        "DELETE /api/v1/users/me/sessions",
        "GET /api/v1/users/me/passkeys",
        "GET /health",
        "GET /health/ready",
        "GET /.well-known/jwks.json",
        "GET /.well-known/openid-configuration",
        "GET /api/v1/auth/oidc/providers",
        "GET /api/v1/users/me/identities",
    }
    for label, operation in operations(document):
        assert ("422" in operation["responses"]) == (label not in without_input), label


def test_no_content_means_no_body(document: Document) -> None:
    for label, operation in operations(document):
        if "204" in operation["responses"]:
            assert "content" not in operation["responses"]["204"], label


def test_the_route_specific_errors_are_listed(document: Document) -> None:
    def described(label: str, status: str) -> str:
        operation = dict(operations(document))[label]
        return str(operation["responses"][status]["description"])

    assert "WEAK_PASSWORD" in described("POST /api/v1/auth/register", "400")
    assert "SESSION_NOT_FOUND" in described("DELETE /api/v1/users/me/sessions/{session_id}", "404")
    assert "EMAIL_ALREADY_EXISTS" in described("POST /api/v1/auth/register", "409")
    assert "TOO_MANY_ATTEMPTS" in described("POST /api/v1/auth/login", "429")
    assert "INVALID_TOKEN" in described("POST /api/v1/auth/reset-password", "400")
    assert "TOKEN_REUSED" in described("POST /api/v1/auth/refresh", "401")
    assert "USER_NOT_FOUND" in described("GET /api/v1/users/{user_id}", "404")


async def test_options_lists_every_method_of_the_path(client: Any) -> None:
    """Litestar 2 lists only one handler's methods on a path two handlers serve."""
    response = await client.options("/api/v1/users/me")

    assert response.status_code == 204
    assert response.headers["allow"] == "DELETE, OPTIONS, PATCH"


async def test_method_not_allowed_names_the_allowed_methods(client: Any) -> None:
    response = await client.put("/api/v1/users/me")

    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"DELETE", "OPTIONS", "PATCH"}
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
