"""POST /webhooks/stripe: verify the signature on the raw body, store the event in the inbox, answer.

One database round trip per event: the insert into the inbox (a redelivery is answered from the unique
index's duplicate-key error). The inbox worker (services.inbox) applies it moments later, retries it
with backoff, and the effects' messages go through the notification outbox. Types FlyO does not handle
are answered 200 "ignored" without touching the database. 400 for anything unsigned or malformed (Stripe
shows it in the dashboard), 503 while the database is down so Stripe retries, 500 for an unexpected
failure (also retried).
"""

from __future__ import annotations

import json
import logging

import stripe
from aiohttp import web
from pymongo.errors import PyMongoError

from core.database import counting_round_trips
from services.metrics import record_round_trips
from webhooks.keys import SERVICES

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
TOLERANCE_SECONDS = 300


@routes.post("/webhooks/stripe")
async def stripe_webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    events = services.payment_events
    secret = services.webhook_secret
    if events is None or not secret:
        return web.json_response({"error": "payments are not configured"}, status=404)
    payload = await request.read()
    header = request.headers.get("Stripe-Signature")
    if not header:
        return _reject(services, "missing Stripe-Signature header")
    problem = verify_signature(payload, header, secret)
    if problem:
        return _reject(services, f"bad signature: {problem}")
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return _reject(services, "body is not JSON")
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        return _reject(services, "not a Stripe event")
    kind = str(event["type"])
    if not events.inbox.handles(kind):  # not subscribed (README, Payments): answered, nothing stored
        services.count_webhook(kind, "ignored")
        return web.json_response({"received": True, "outcome": "ignored"})
    try:
        with counting_round_trips() as commands:
            received = await events.inbox.receive(event)  # the one database round trip: an insert
        record_round_trips("stripe_webhook", kind, kind, commands)
    except PyMongoError:
        log.warning("database unavailable while storing %s; Stripe will retry", event.get("id"), exc_info=True)
        services.count_webhook(kind, "db_unavailable")
        return web.json_response({"error": "temporarily unavailable"}, status=503)
    services.count_webhook(kind, received)  # "queued" | "duplicate"; the worker reports the effect's outcome
    if received == "duplicate":
        return web.json_response({"received": True, "duplicate": True})
    return web.json_response({"received": True})


def verify_signature(payload: bytes, header: str, configured: str) -> str:
    """Empty when the header is a valid signature by any of the comma-separated secrets, else why not.

    Two secrets while one is rotated (STRIPE_WEBHOOK_SECRET="whsec_old,whsec_new"): Stripe signs with the
    endpoint's current secret, and during a roll also with the old one, so either must be accepted.
    """
    problem = "no webhook secret configured"
    for secret in (s.strip() for s in configured.split(",")):
        if not secret:
            continue
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as exc:
            problem = str(exc.user_message or exc)
            continue
        return ""
    return problem


def _reject(services: object, reason: str) -> web.Response:
    log.warning("rejected a Stripe webhook: %s", reason)
    count = getattr(services, "count_webhook", None)
    if count is not None:
        count("unverified", "rejected")
    return web.json_response({"error": reason}, status=400)
