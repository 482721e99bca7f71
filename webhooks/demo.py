"""Demo checkout, mounted only in the terminal chat (`python -m bot console` without a Stripe key).

GET /demo/checkout/<session> shows a confirm page and changes nothing (a link preview or a prefetch must
never pay); its "Pay (demo)" button POSTs to the same URL, which builds a `checkout.session.completed` event
exactly as Stripe would send it, signs it with the process's demo secret and POSTs it to our own
/webhooks/stripe — so the demo exercises signature checking, the inbox, the conditional update and the
e-mail, like a real payment. Like Stripe, an unknown session is 404, an expired one 410, a paid one 409.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import secrets
import time

import aiohttp
from aiohttp import web

from models.ops import PaymentAttempt
from repos.base import collection
from services.context import Services
from services.money import money
from services.stripe_gateway import DEMO_COMPLETING, DemoGateway
from webhooks.keys import SERVICES

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

DEMO_NOTE = "🧪 DEMO payment — FlyO's terminal chat has no Stripe key: no card, no money is taken."
PAYING = DEMO_COMPLETING  # a POST claimed the session; the webhook turns it into "paid"
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; "
           "style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"}


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """Stripe's scheme: v1 = HMAC-SHA256(secret, "<timestamp>.<raw body>")."""
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def _page(title: str, paragraphs: list[str], status: int = 200, form: str = "") -> web.Response:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
            f"<body style='font-family:sans-serif;max-width:36em;margin:2em auto'><h2>{html.escape(title)}</h2>"
            f"{body}{form}</body></html>")
    return web.Response(text=page, content_type="text/html", status=status, headers=HEADERS)


async def _session(request: web.Request) -> tuple[Services, PaymentAttempt] | web.Response:
    """The open, unexpired demo session of the URL, or the page Stripe would show instead."""
    services = request.app[SERVICES]
    session_id = request.match_info["session_id"]
    attempt = await PaymentAttempt.find_one(PaymentAttempt.session_id == session_id) \
        if session_id.startswith("cs_demo_") else None
    if attempt is None:
        return _page("Unknown checkout session", ["This demo payment link does not exist."], 404)
    if attempt.status in ("paid", PAYING):
        return _page("Already paid", [f"Booking {html.escape(attempt.reference)} is already paid (demo); "
                                      "nothing more to do. Return to the chat."], 409)
    if attempt.status != "open" or attempt.expires_ms <= services.clock.now_ms():
        return _page("Payment link expired", [f"This demo payment link for booking {html.escape(attempt.reference)}"
                                              " has expired. Tap “Pay again” in the chat for a new one."], 410)
    return services, attempt


@routes.get("/demo/checkout/{session_id}")
async def demo_checkout_page(request: web.Request) -> web.Response:
    """The confirm page: what would be paid, and a POST button. Viewing it pays nothing."""
    found = await _session(request)
    if isinstance(found, web.Response):
        return found
    _, attempt = found
    amount = html.escape(money(attempt.amount, attempt.currency))
    action = html.escape(request.path, quote=True)
    form = (f"<form method='post' action='{action}'><button type='submit' style='font-size:1.2em'>"
            f"Pay (demo) {amount}</button></form>")
    return _page("FlyO demo checkout", [
        f"Booking <b>{html.escape(attempt.reference)}</b> · {amount}",
        html.escape(DEMO_NOTE),
    ], form=form)


@routes.post("/demo/checkout/{session_id}")
async def demo_checkout_pay(request: web.Request) -> web.Response:
    """Pay the demo session once, through FlyO's real signed Stripe webhook."""
    found = await _session(request)
    if isinstance(found, web.Response):
        return found
    services, attempt = found
    session_id = attempt.session_id
    # One POST wins (a double click, two tabs): the session is claimed before the event is sent.
    claimed = await collection(PaymentAttempt).update_one(
        {"session_id": session_id, "status": "open", "expires_ms": {"$gt": services.clock.now_ms()}},
        {"$set": {"status": PAYING}})
    if claimed.modified_count != 1:
        refreshed = await _session(request)
        return refreshed if isinstance(refreshed, web.Response) else _page(
            "Already paid", ["This demo payment is already being processed. Return to the chat."], 409)
    status, outcome = await _send_completed_event(request, services, attempt)
    if status != 200:  # the webhook did not take it: the session is payable again, like a declined card
        await collection(PaymentAttempt).update_one({"session_id": session_id, "status": PAYING},
                                                    {"$set": {"status": "open"}})
        return _page("Demo payment failed", [f"FlyO's webhook answered HTTP {status} ({html.escape(outcome)}). "
                                             "Nothing was paid; try again."], 502)
    return _page("Demo payment done", [
        f"Booking <b>{html.escape(attempt.reference)}</b>: demo payment sent through the Stripe webhook "
        f"(outcome: <b>{html.escape(outcome)}</b>).", html.escape(DEMO_NOTE), "Return to the chat.",
    ])


async def _send_completed_event(request: web.Request, services: Services,
                                attempt: PaymentAttempt) -> tuple[int, str]:
    now = int(time.time())  # Stripe's signature timestamp is real time, whatever the app's clock says
    event = {
        "id": f"evt_demo_{secrets.token_hex(12)}", "object": "event", "api_version": "2024-06-20", "created": now,
        "livemode": False, "pending_webhooks": 1, "type": "checkout.session.completed",
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": DemoGateway.session_object(attempt, paid=True)},
    }
    payload = json.dumps(event).encode()
    url = _own_url(request) + "/webhooks/stripe"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client, client.post(
            url, data=payload, headers={"Stripe-Signature": sign(payload, services.webhook_secret, now),
                                        "Content-Type": "application/json"},
        ) as response:
            result = await response.json(content_type=None)
            return response.status, str(result.get("outcome") or result.get("error") or result)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("demo checkout could not reach the webhook at %s: %s", url, exc)
        return 502, "webhook unreachable"


def _own_url(request: web.Request) -> str:
    """This server, at the socket the request came in on (never the client's Host header)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if not sockname:
        port = request.app[SERVICES].settings.HTTP_PORT
        return f"http://127.0.0.1:{port}"
    host, port = sockname[0], sockname[1]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
