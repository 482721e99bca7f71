"""Mounts the Mini Apps on FlyO's aiohttp server: the pages, their API and their static files."""

from __future__ import annotations

from aiohttp import web

from miniapp import dashboard, seats
from miniapp.web import asset_response

# The only files served under /app/static/ (a fixed list: nothing from the URL reaches the file system).
ASSETS = frozenset({"app.js", "common.css", "seats.js", "seats.css", "dashboard.js", "dashboard.css"})
static = web.RouteTableDef()


@static.get("/app/static/{name}")
async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return asset_response(name)


def install(app: web.Application) -> None:
    app.add_routes(static)
    app.add_routes(seats.routes)
    app.add_routes(dashboard.routes)
