"""The seat map Mini App (issue #19): `/app/seats/` (the page) and its API.

    GET  /app/api/seats?f=<flow>            the draft's flights, cabins and seat states (polled every few seconds)
    POST /app/api/seats  {"flow", "seats"}  hold these seats (one list per flight) and move the chat on

The Telegram user in the init data is the chat: Mini Apps open from the private chat, whose id is the user's, so
nobody can address another traveller's booking. `flow` names the search the page was opened from; a page left
open from an earlier search is told so (409) instead of acting on the new one.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from pymongo.errors import PyMongoError

from handlers.router import run_app_turn, speak
from handlers.seat_app import SeatConfirm, confirm_seats, read_choice
from handlers.turn import Turn
from miniapp.web import Refused, asset_response, authenticate, json_error
from models.conversation import Step
from services.context import Services
from services.seat_map_view import seat_map_view
from webhooks.keys import SERVICES, TELEGRAM

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

MAX_BODY = 8 * 1024  # a confirm is a few dozen bytes
STATUS = {"ok": 200, "invalid": 400, "stale": 409, "taken": 409, "closed": 409}
UNAVAILABLE = "FlyO's database is not answering. Nothing changed; please try again."


@routes.get("/app/seats/")
async def seat_map_page(request: web.Request) -> web.Response:
    return asset_response("seats.html", page=True)


async def _view(services: Services, user_id: int, flow: str) -> dict[str, Any] | web.Response:
    """The page's data, or the refusal (another chat's, an earlier search's, seats already chosen)."""
    conv = await services.conversations.load(user_id, user_id)
    speak(conv)
    draft = services.conversations.read_draft(conv)
    if conv.user_id != user_id:
        return json_error(403, "forbidden", "This seat map belongs to another chat.")
    if conv.flow != flow or draft is None or not draft.picks:
        return json_error(409, "stale", "This seat map belongs to an earlier search. Return to the chat.")
    if conv.step != Step.SEATS:
        return json_error(409, "moved_on", "Your seats are chosen. Return to the chat for the next step.")
    return await seat_map_view(services, draft, user_id, flow)


@routes.get("/app/api/seats")
async def seat_map_state(request: web.Request) -> web.Response:
    try:
        user = authenticate(request)
        view = await _view(request.app[SERVICES], user.user_id, request.query.get("f", "")[:16])
        if isinstance(view, web.Response):
            return view
        return web.json_response(view, headers={"Cache-Control": "no-store"})
    except Refused as refused:
        return refused.response
    except PyMongoError:
        log.warning("database unavailable for the seat map", exc_info=True)
        return json_error(503, "unavailable", UNAVAILABLE)


async def _read_body(request: web.Request) -> tuple[str, list[list[str]]] | web.Response:
    if request.content_length is None or request.content_length > MAX_BODY:
        return json_error(413 if request.content_length else 411, "bad_request", "The request is too large.")
    try:
        body: Any = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return json_error(400, "bad_request", "The request is not JSON.")
    flow = body.get("flow") if isinstance(body, dict) else None
    choice = read_choice(body.get("seats")) if isinstance(body, dict) else None
    if not isinstance(flow, str) or not flow or len(flow) > 16 or choice is None:
        return json_error(400, "bad_request", "Send the search and one list of seats per flight.")
    return flow, choice


@routes.post("/app/api/seats")
async def seat_map_confirm(request: web.Request) -> web.Response:
    try:
        user = authenticate(request)
    except Refused as refused:
        return refused.response
    parsed = await _read_body(request)
    if isinstance(parsed, web.Response):
        return parsed
    flow, choice = parsed
    outcome = SeatConfirm("stale", "")

    async def body(turn: Turn) -> None:
        nonlocal outcome
        outcome = await confirm_seats(turn, flow, choice)

    services = request.app[SERVICES]
    try:
        await run_app_turn(request.app[TELEGRAM], user.user_id, user.user_id, user.first_name, body)
        extra: dict[str, Any] = {}
        if outcome.status == "taken":  # the page redraws from this, no second round trip
            extra["taken"] = [{"segment": index, "seat": seat} for index, seat in outcome.taken]
            fresh = await _view(services, user.user_id, flow)
            extra["map"] = None if isinstance(fresh, web.Response) else fresh
    except PyMongoError:
        log.warning("database unavailable for a seat map confirm", exc_info=True)
        return json_error(503, "unavailable", UNAVAILABLE)
    if outcome.status == "ok":
        return web.json_response({"status": "ok", "message": outcome.message}, headers={"Cache-Control": "no-store"})
    return json_error(STATUS[outcome.status], outcome.status, outcome.message, **extra)
