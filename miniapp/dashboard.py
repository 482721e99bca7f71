"""The admins' analytics dashboard Mini App (issue #19, part 3): `/app/dashboard/` (the page) and its API.

    GET /app/api/dashboard?days=14               the numbers and charts (services.dashboard), JSON
    GET /app/api/dashboard/bookings.csv?days=30  the bookings of the window as a CSV download

Admins only (ADMIN_IDS), checked on every call from the init data: 401 without valid init data, 403 for anyone
else, neither with any number in it. `days` is clamped to 1..90; what is not a whole number is a 400. Every read
and every export is audited: the export holds travellers' names and e-mail addresses.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from pymongo.errors import PyMongoError

from miniapp.web import API_HEADERS, Refused, asset_response, authenticate, json_error
from services import dashboard, dashboard_csv
from services.audit import audit
from services.context import Services
from webhooks.keys import SERVICES

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

UNAVAILABLE = "FlyO's database is not answering. Please try again in a moment."


@routes.get("/app/dashboard/")
async def dashboard_page(request: web.Request) -> web.Response:
    return asset_response("dashboard.html", page=True)


Work = Callable[[Services, int, int], Awaitable[web.Response]]  # (services, the admin's id, days) → answer


async def _for_an_admin(request: web.Request, default_days: int, what: str, work: Work) -> web.Response:
    """Runs `work` for an admin with the window asked for; the refusal, the 400 or the 503 otherwise."""
    try:
        user = authenticate(request, admin=True)  # before anything else is read: who asks, then what
        days = dashboard.window_days(request.query.get("days"), default_days)
        return await work(request.app[SERVICES], user.user_id, days)
    except Refused as refused:
        return refused.response
    except dashboard.BadWindow as bad:
        return json_error(400, "bad_request", str(bad))
    except PyMongoError:
        log.warning("database unavailable for the %s", what, exc_info=True)
        return json_error(503, "unavailable", UNAVAILABLE)


@routes.get("/app/api/dashboard")
async def dashboard_numbers(request: web.Request) -> web.Response:
    async def numbers(services: Services, admin: int, days: int) -> web.Response:
        # Audited first, so the page's own list of admin actions includes this visit.
        await audit(services.clock, admin, "dashboard", "", "shown", f"{days} days")
        return web.json_response(await dashboard.report(services, days), headers=API_HEADERS)

    return await _for_an_admin(request, 14, "dashboard", numbers)


@routes.get("/app/api/dashboard/bookings.csv")
async def bookings_export(request: web.Request) -> web.Response:
    async def export(services: Services, admin: int, days: int) -> web.Response:
        filename, text = await dashboard_csv.export(services, days)
        await audit(services.clock, admin, "export_bookings", "", "sent", f"{days} days")
        headers = {**API_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
        return web.Response(text=text, content_type="text/csv", charset="utf-8", headers=headers)

    return await _for_an_admin(request, 30, "bookings export", export)
