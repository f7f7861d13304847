"""``GET /metrics``: the Prometheus text format, beside ``/health`` (an operator's endpoint,
outside the versioned API and left out of the OpenAPI document).

Served on the API port unless ``NEODYME_METRICS_PORT`` is set; it names no user and no
secret, but tells traffic figures, so keep it from the public (docs/operations.md).
"""

from __future__ import annotations

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.response import Response

from neodyme_adapters.prometheus_metrics import EXPOSITION_CONTENT_TYPE
from neodyme_app.http.dependencies import ContainerDep
from neodyme_app.metrics_scrape import read_outbox

METRICS_PATH = "/metrics"
_MEDIA_TYPE = EXPOSITION_CONTENT_TYPE.removesuffix("; charset=utf-8")  # Litestar appends it


@get(METRICS_PATH, include_in_schema=False)
async def metrics_endpoint(container: ContainerDep) -> Response[bytes]:
    metrics = container.metrics()
    if metrics is None:  # the route exists only with metrics on: never, but say so
        raise NotFoundException()
    outbox = await read_outbox(container)
    return Response(
        metrics.scrape(outbox),
        media_type=_MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
    )
