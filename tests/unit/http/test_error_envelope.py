"""Every error, the framework's own included, leaves in the envelope of api.md."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers

from neodyme_app.container import Container
from neodyme_app.http.errors import STATUS_BY_CODE
from neodyme_domain.errors import DomainError
from tests.unit.http.conftest import PASSWORD

REGISTER = "/api/v1/auth/register"


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code
    assert error["request_id"] == response.headers["x-request-id"]
    return dict(error)


def _all_subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_all_subclasses(sub))]


def test_every_domain_error_code_has_a_status() -> None:
    codes = {cls.code for cls in _all_subclasses(DomainError) if "code" in vars(cls)}
    assert codes <= set(STATUS_BY_CODE)


async def test_unknown_route_is_404(client: Any) -> None:
    assert_envelope(await client.get("/api/v1/nowhere"), 404, "NOT_FOUND")


async def test_wrong_method_is_405(client: Any) -> None:
    assert_envelope(await client.put("/api/v1/auth/login"), 405, "METHOD_NOT_ALLOWED")


async def test_malformed_json_is_400(client: Any) -> None:
    response = await client.post(
        REGISTER, content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "BAD_REQUEST")


async def test_empty_body_is_400(client: Any) -> None:
    response = await client.post(
        REGISTER, content=b"", headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "BAD_REQUEST")


async def test_a_body_that_is_not_json_is_415(client: Any) -> None:
    response = await client.post(
        REGISTER,
        content=b"email=a@b.c",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_a_body_over_the_limit_is_413(client: Any) -> None:
    body = {"email": "big@example.com", "full_name": "x" * 70_000, "password": PASSWORD}
    assert_envelope(await client.post(REGISTER, json=body), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": "No Email", "password": PASSWORD}, "email"),
        ({"email": 5, "full_name": "Typed", "password": PASSWORD}, "email"),
        (
            {
                "email": "a@example.com",
                "full_name": "U",
                "password": PASSWORD,
                "is_superuser": True,
            },
            "is_superuser",
        ),
        ({"email": "not-an-email", "full_name": "Bad Mail", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "full_name": "   ", "password": PASSWORD}, "full_name"),
        ({"email": "a@example.com", "full_name": "x" * 201, "password": PASSWORD}, "full_name"),
        (
            {"email": "a@example.com", "full_name": "Bad\r\nBcc: x@y.z", "password": PASSWORD},
            "full_name",
        ),
        ({"email": "a@example.com", "full_name": "Nul\x00", "password": PASSWORD}, "full_name"),
        ({"email": "a@example.com", "full_name": "Long", "password": "Aa1!" * 257}, "password"),
    ],
)
async def test_invalid_registrations_are_422_naming_the_field(
    client: Any, container: Container, body: dict[str, Any], field: str
) -> None:
    error = assert_envelope(await client.post(REGISTER, json=body), 422, "VALIDATION_ERROR")

    assert field in [f["field"] for f in error["details"]["fields"]]
    assert container.memory_database().state.users == {}


async def test_an_unexpected_error_is_a_bare_500(client: Any, container: Container) -> None:
    class Broken:
        async def __call__(self, command: object) -> None:
            raise RuntimeError("SELECT hashed_password FROM users -- secret detail")

    container.register_user.override(providers.Factory(Broken))
    body = {"email": "boom@example.com", "full_name": "Boom", "password": PASSWORD}

    error = assert_envelope(await client.post(REGISTER, json=body), 500, "INTERNAL_ERROR")

    assert "SELECT" not in error["message"]
    assert error["request_id"] in error["message"]
