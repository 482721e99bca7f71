"""GET /healthz: 200 with database status, version and uptime; 503 while the database is unreachable."""

from __future__ import annotations

import time

from aiohttp import web

from core.version import __version__
from webhooks.keys import SERVICES

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    services = request.app.get(SERVICES)
    db_ok = services is not None and await services.database.ping(within=2.0)
    body = {
        "status": "ok" if db_ok else "degraded",
        "database": "up" if db_ok else "down",
        "version": __version__,
        "uptime_seconds": round(time.monotonic() - services.started_monotonic, 1) if services else 0.0,
    }
    return web.json_response(body, status=200 if db_ok else 503)
