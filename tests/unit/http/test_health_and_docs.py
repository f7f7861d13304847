"""Probes and the OpenAPI document."""

from __future__ import annotations

from typing import Any

EXPECTED_PATHS = {
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/me",
    "/api/v1/users/{user_id}",
    "/health",
    "/health/ready",
}


async def test_liveness(client: Any) -> None:
    response = await client.get("/health")
    assert (response.status_code, response.json()["status"]) == (200, "ok")


async def test_readiness_on_memory_storage(client: Any) -> None:
    response = await client.get("/health/ready")
    assert (response.status_code, response.json()["checks"]) == (200, {"database": "ok"})


async def test_openapi_document_lists_every_endpoint_and_its_errors(client: Any) -> None:
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) >= EXPECTED_PATHS
    register = document["paths"]["/api/v1/auth/register"]["post"]["responses"]
    assert {"201", "400", "409", "422"} <= set(register)


async def test_interactive_page(client: Any) -> None:
    response = await client.get("/schema/swagger")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
