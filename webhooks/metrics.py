"""GET /metrics: Prometheus text format from services.metrics' registry (database gauges refreshed first).

Meant for the internal network. With METRICS_TOKEN set it also wants `Authorization: Bearer <token>`,
for deployments where the port is reachable from outside.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.metrics import HTTP_RESPONSES, REGISTRY, refresh_db_gauges
from webhooks.keys import SERVICES, SETTINGS

routes = web.RouteTableDef()


@web.middleware
async def count_responses(request: web.Request, handler: Handler) -> web.StreamResponse:
    """flyo_http_responses{status="2xx"|"4xx"|"5xx"}: the 5xx rate an alert watches (docs/operations.md)."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        HTTP_RESPONSES.labels(f"{exc.status // 100}xx").inc()
        raise
    except Exception:
        HTTP_RESPONSES.labels("5xx").inc()  # aiohttp answers an unhandled error with a 500
        raise
    HTTP_RESPONSES.labels(f"{response.status // 100}xx").inc()
    return response


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    token = request.app[SETTINGS].METRICS_TOKEN
    if token is not None:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
            return web.Response(status=401, text="unauthorized\n", headers={"WWW-Authenticate": "Bearer"})
    services = request.app.get(SERVICES)
    if services is not None:
        await refresh_db_gauges(services)
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
