"""Demo checkout (no Stripe key only): opening /demo/checkout/<session> pays it through the real webhook.

The page builds a `checkout.session.completed` event exactly as Stripe would send it, signs it with
the webhook secret and POSTs it to our own /webhooks/stripe — so the demo exercises signature
checking, the inbox, the conditional update and the e-mail, just like a real payment.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import time

import aiohttp
from aiohttp import web

from models.ops import PaymentAttempt
from webhooks.keys import SERVICES

routes = web.RouteTableDef()


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """Stripe's scheme: v1 = HMAC-SHA256(secret, "<timestamp>.<raw body>")."""
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


@routes.get("/demo/checkout/{session_id}")
async def demo_checkout(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if not services.payments or not services.payments.demo:
        raise web.HTTPNotFound(text="Demo payments exist only when no Stripe key is configured.")
    session_id = request.match_info["session_id"]
    attempt = await PaymentAttempt.find_one(PaymentAttempt.session_id == session_id)
    if attempt is None:
        raise web.HTTPNotFound(text="Unknown demo checkout session.")
    now = int(time.time())
    event = {
        "id": f"evt_demo_{secrets.token_hex(8)}", "object": "event", "api_version": "2024-06-20", "created": now,
        "livemode": False, "pending_webhooks": 1, "type": "checkout.session.completed",
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": {
            "id": session_id, "object": "checkout.session", "mode": "payment", "status": "complete",
            "payment_status": "paid", "amount_total": attempt.amount, "amount_subtotal": attempt.amount,
            "currency": attempt.currency.lower(), "client_reference_id": attempt.booking_id,
            "metadata": {"booking_id": attempt.booking_id, "reference": attempt.reference},
            "payment_intent": f"pi_demo_{secrets.token_hex(8)}", "livemode": False,
        }},
    }
    payload = json.dumps(event).encode()
    settings = services.settings
    url = f"http://127.0.0.1:{settings.HTTP_PORT}/webhooks/stripe"
    async with aiohttp.ClientSession() as client, client.post(
        url, data=payload, headers={"Stripe-Signature": sign(payload, services.webhook_secret, now),
                                    "Content-Type": "application/json"},
    ) as response:
        result = await response.json(content_type=None)
    outcome = html.escape(str(result.get("outcome", result)))
    page = (f"<html><body style='font-family:sans-serif'><h2>🧪 FlyO demo payment</h2>"
            f"<p>Booking {html.escape(attempt.reference)}: demo payment sent through the Stripe webhook "
            f"(outcome: <b>{outcome}</b>). No real money moved.</p><p>Return to the chat.</p></body></html>")
    return web.Response(text=page, content_type="text/html", status=200 if response.status == 200 else 502)
