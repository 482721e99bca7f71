"""Demo checkout, mounted only in the terminal chat (`python -m bot console` without a Stripe key).

GET /demo/checkout/<session> shows a confirm page and changes nothing (a link preview or a prefetch must
never pay); its "Pay (demo)" button POSTs to the same URL, which claims the session and queues a
`checkout.session.completed` event, built exactly as Stripe would send it, in the Stripe inbox — through
the same function the Stripe route uses — so the demo exercises the inbox worker, the conditional update
and the e-mail, like a real payment. Like Stripe, an unknown session is 404, an expired one 410, a paid
one 409.
"""

from __future__ import annotations

import html
import logging

from aiohttp import web
from pymongo.errors import PyMongoError

from core.i18n import _
from models.ops import AttemptStatus, PaymentAttempt
from services.context import Services
from services.inbox_demo import DemoCheckout
from services.money import money
from webhooks.keys import SERVICES
from webhooks.pages import html_page

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; "
           "style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"}


def demo_note() -> str:
    return _("🧪 DEMO payment — FlyO's terminal chat has no Stripe key: no card, no money is taken.")


def _page(title: str, paragraphs: list[str], status: int = 200, form: str = "") -> web.Response:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page = html_page(title, f"<h2>{html.escape(title)}</h2>{body}{form}")
    return web.Response(text=page, content_type="text/html", status=status, headers=HEADERS)


async def _session(request: web.Request) -> tuple[Services, DemoCheckout, PaymentAttempt] | web.Response:
    """The open, unexpired demo session of the URL, or the page Stripe would show instead."""
    services = request.app[SERVICES]
    if services.payment_events is None:
        return _page(_("Unknown checkout session"), [_("This demo payment link does not exist.")], 404)
    demo = DemoCheckout(services.payment_events)
    attempt = await demo.session(request.match_info["session_id"])
    if attempt is None:
        return _page(_("Unknown checkout session"), [_("This demo payment link does not exist.")], 404)
    reference = html.escape(attempt.reference)
    if attempt.status in (AttemptStatus.PAID, AttemptStatus.COMPLETING):
        return _page(_("Already paid"), [_("Booking {reference} is already paid (demo); nothing more to do. "
                                           "Return to the chat.").format(reference=reference)], 409)
    if attempt.status != AttemptStatus.OPEN or attempt.expires_ms <= services.clock.now_ms():
        return _page(_("Payment link expired"), [_("This demo payment link for booking {reference} has expired. "
                                                   "Tap “Pay again” in the chat for a new one.").format(
                                                       reference=reference)], 410)
    return services, demo, attempt


@routes.get("/demo/checkout/{session_id}")
async def demo_checkout_page(request: web.Request) -> web.Response:
    """The confirm page: what would be paid, and a POST button. Viewing it pays nothing."""
    found = await _session(request)
    if isinstance(found, web.Response):
        return found
    _services, _demo, attempt = found
    amount = html.escape(money(attempt.amount, attempt.currency))
    action = html.escape(request.path, quote=True)
    form = (f"<form method='post' action='{action}'><button type='submit' style='font-size:1.2em'>"
            + html.escape(_("Pay (demo) {amount}").format(amount=amount), quote=False) + "</button></form>")
    return _page(_("FlyO demo checkout"), [
        _("Booking <b>{reference}</b> · {amount}").format(reference=html.escape(attempt.reference), amount=amount),
        html.escape(demo_note()),
    ], form=form)


@routes.post("/demo/checkout/{session_id}")
async def demo_checkout_pay(request: web.Request) -> web.Response:
    """Pay the demo session once: its paid event goes to the Stripe inbox, which confirms the booking."""
    found = await _session(request)
    if isinstance(found, web.Response):
        return found
    _services, demo, attempt = found
    try:
        queued = await demo.pay(attempt)  # one POST wins (a double click, two tabs)
    except PyMongoError:
        log.warning("demo checkout could not queue its event", exc_info=True)
        return _page(_("Demo payment failed"), [_("FlyO's database is not answering. Nothing was paid; try again.")],
                     503)
    if not queued:
        refreshed = await _session(request)
        return refreshed if isinstance(refreshed, web.Response) else _page(
            _("Already paid"), [_("This demo payment is already being processed. Return to the chat.")], 409)
    return _page(_("Demo payment done"), [
        _("Booking <b>{reference}</b>: demo payment sent to FlyO's Stripe inbox; the confirmation arrives in the "
          "chat in a moment.").format(reference=html.escape(attempt.reference)),
        html.escape(demo_note()), _("Return to the chat."),
    ])
