"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from neodyme_adapters.sqlalchemy import ping
from neodyme_app.http.dependencies import ContainerDep
from neodyme_app.http.errors import documented_errors, error_response
from neodyme_app.http.schemas import Status

READY_TIMEOUT_SECONDS = 2.0


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/")
    async def live(self) -> Status:
        """Touches nothing: answers as long as the process serves requests."""
        return Status("ok")

    @get("/ready", responses=documented_errors("SERVICE_UNAVAILABLE"))
    async def ready(
        self, request: Request[Any, Any, Any], container: ContainerDep
    ) -> Response[Any]:
        """200 when the database answers within two seconds, else 503 naming the check."""
        if container.settings().uses_memory_storage:
            return Response(Status("ok", {"database": "ok"}))
        try:
            await ping(container.engine(), READY_TIMEOUT_SECONDS)
        except Exception:
            return error_response(
                request,
                "SERVICE_UNAVAILABLE",
                "The database is not reachable",
                {"checks": {"database": "unreachable"}},
                retry_after=1,
            )
        return Response(Status("ok", {"database": "ok"}))
