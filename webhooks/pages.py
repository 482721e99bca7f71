"""GET /paid and /unpaid: where Stripe Checkout sends the traveller back (success_url / cancel_url).

The pages only say what happened and lead back to the chat; the booking is confirmed by the signed webhook,
never by this redirect (anyone can open /paid). `?ref=` comes from the URL, so it is attacker-controlled:
it is shown only when it is a booking reference (six characters A-Z 0-9), and escaped even then.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from core.i18n import N_, _, current_locale
from webhooks.keys import TELEGRAM

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

REFERENCE = re.compile(r"[A-Z0-9]{6}")
USERNAME = re.compile(r"[A-Za-z0-9_]{4,64}")  # Telegram usernames: letters, digits, underscores
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
           "frame-ancestors 'none'"}


@dataclass(frozen=True)
class Outcome:
    title: str
    lead: str  # plain text
    next_step: str


# Marked for extraction here, translated where the page is rendered (the request's locale).
PAID_TITLE = N_("Payment received — return to Telegram")
PAID_LEAD = N_("✅ Payment received")
PAID_NEXT = N_("Return to Telegram: FlyO confirms your booking in the chat in a moment, and by e-mail.")
UNPAID_TITLE = N_("Payment not completed")
UNPAID_NEXT = N_("Nothing was charged. Your seats stay held until the payment deadline — you can pay again "
                 "from the chat.")
PAID = Outcome(PAID_TITLE, PAID_LEAD, PAID_NEXT)
UNPAID = Outcome(UNPAID_TITLE, UNPAID_TITLE, UNPAID_NEXT)


def translated(outcome: Outcome) -> Outcome:
    """The outcome's texts in the current locale."""
    if outcome == PAID:
        return Outcome(_(PAID_TITLE), _(PAID_LEAD), _(PAID_NEXT))
    if outcome == UNPAID:
        return Outcome(_(UNPAID_TITLE), _(UNPAID_TITLE), _(UNPAID_NEXT))
    return outcome


def render_page(outcome: Outcome, username: str | None, ref: str) -> str:
    """The whole HTML page; `ref` appears only if it is a booking reference, `username` only if valid."""
    outcome = translated(outcome)
    parts = [f"<h1>{html.escape(outcome.lead)}</h1>"]
    if REFERENCE.fullmatch(ref):
        parts.append("<p>" + _("Booking <b>{reference}</b>").format(reference=html.escape(ref)) + "</p>")
    parts.append(f"<p>{html.escape(outcome.next_step)}</p>")
    if username and USERNAME.fullmatch(username):
        name = quote(username, safe="")
        parts.append(f"<p><a href='tg://resolve?domain={name}' style='font-size:1.2em'>"
                     + html.escape(_("Open the FlyO chat in Telegram")) + "</a></p><p>"
                     + html.escape(_("Telegram did not open?")) + f" <a href='https://t.me/{name}'>"
                     f"https://t.me/{name}</a></p>")
    return html_page(f"FlyO — {outcome.title}", "".join(parts) + "<p style='color:#666'>— FlyO</p>")


def html_page(title: str, body: str) -> str:
    """FlyO's page shell: phone-first (side padding, readable line length), inline styles only (the CSP allows
    no style sheet). `title` is text; `body` is trusted HTML."""
    return ("<!doctype html><html lang='" + html.escape(current_locale()) + "'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
            "<body style='font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1.25em;"
            f"line-height:1.5;color:#1a1a1a'>{body}</body></html>")


def bot_username(app: web.Application) -> str | None:
    """The bot's @username once the Application is initialised (getMe); None before or if unknown."""
    telegram = app.get(TELEGRAM)
    if telegram is None:
        return None
    try:
        return telegram.bot.username or None
    except RuntimeError:  # PTB: not initialised yet (getMe not done)
        return None


def _respond(request: web.Request, outcome: Outcome) -> web.Response:
    ref = request.query.get("ref", "")
    page = render_page(outcome, bot_username(request.app), ref)
    return web.Response(text=page, content_type="text/html", headers=HEADERS)


@routes.get("/paid")
async def paid(request: web.Request) -> web.Response:
    """Stripe's success_url: the payment went through on Stripe's side."""
    return _respond(request, PAID)


@routes.get("/unpaid")
async def unpaid(request: web.Request) -> web.Response:
    """Stripe's cancel_url: the traveller left Checkout without paying."""
    return _respond(request, UNPAID)
