"""Admin commands (ADMIN_IDS only): /booking REF (with its history in words), /resend REF. Every attempt is
audited. (/reply, /find, /flagged: handlers.support.)"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from core.errors import FlyOError
from handlers.context import FlyOContext
from handlers.render import esc, money
from handlers.router import run_turn
from handlers.turn import Turn
from models.booking import BookingEvent, BookingStatus
from services.audit import audit

log = logging.getLogger(__name__)

AdminBody = Callable[[Turn, list[str]], Awaitable[None]]


def admin_only(action: str, body: AdminBody) -> Callable[[Update, FlyOContext], Coroutine[Any, Any, None]]:
    """Refuses (and audits) non-admins; runs `body` with the command's arguments for admins."""
    async def handler(update: Update, context: FlyOContext) -> None:
        args = list(context.args or [])

        async def turn_body(turn: Turn) -> None:
            target = args[0].upper() if args else ""
            if not turn.is_admin:
                await audit(turn.svc.clock, turn.user_id, action, target, "refused", "not an admin")
                log.warning("non-admin %s tried /%s", turn.user_id, action)
                turn.say("Sorry, that command is for FlyO staff only.")
                return
            await body(turn, args)
        await run_turn(update, context, turn_body)
    return handler


_AMOUNT = re.compile(r"\b(\d+) ([A-Z]{3})\b")  # "77800 GBP" as stored in a history event's detail
_ATTEMPT = re.compile(r"^attempt (\d+)(?:: (\S+))?$")
_HISTORY = {
    "created": "Created", "confirmed": "Paid", "cancelled": "Cancelled", "refund": "Refunded",
    "partial_refund": "Partially refunded", "dispute": "Disputed", "refund_failed": "Refund failed",
    "amount_mismatch": "Amount mismatch", "reseated": "Seats replaced",
}


def history_words(event: BookingEvent) -> str:
    """A history event as staff read it: "Refunded £778.00 (cancel, re_1)", "Payment link sent (attempt 2)"."""
    detail = _AMOUNT.sub(lambda m: money(int(m[1]), m[2]), event.detail)
    attempt = _ATTEMPT.match(event.detail)
    if event.kind == "payment_link" and attempt:
        return f"Payment link sent (attempt {attempt[1]})" + (f": {attempt[2]}" if attempt[2] else "")
    if event.kind == "resend":
        if attempt:
            return f"Payment link sent again (attempt {attempt[1]})"
        return "Confirmation sent again" if event.detail == "confirmation" else f"Sent again: {detail}"
    if event.kind == "refund":
        amount, _sep, rest = detail.partition(" (")
        return f"Refunded {amount}" + (f" ({rest}" if rest else "")
    if event.kind == "confirmed" and detail.startswith("paid via "):
        return f"Paid ({detail.removeprefix('paid via ')})"
    label = _HISTORY.get(event.kind, event.kind.replace("_", " ").capitalize())
    return f"{label}: {detail}" if detail else label


async def booking_details(turn: Turn, args: list[str]) -> None:
    if not args:
        turn.say("Usage: /booking REF")
        return
    svc = turn.svc
    try:
        b = await svc.bookings.by_reference(args[0])
    except FlyOError as exc:
        await audit(svc.clock, turn.user_id, "booking", args[0].upper(), "not_found")
        turn.say(esc(exc))
        return
    lines = [f"🔎 <b>{b.reference}</b> · <b>{b.status.value}</b>" + (f" · ⚠️ {esc(b.flag)}" if b.flag else "")]
    for s in b.segments:
        origin = svc.airports.get(s.flight.origin)
        tz = ZoneInfo(origin.tz if origin else "UTC")
        way = "return" if s.leg else "out"
        lines.append(f"{esc(s.flight.flight_number)} {s.flight.origin} → {s.flight.destination} · "
                     f"{s.flight.departs_at.astimezone(tz):%a %d %b %Y %H:%M} local · {s.flight.cabin} · "
                     f"seats {', '.join(s.seats)} · {money(s.fare_per_passenger, b.price.currency)} pp · {way}")
    lines += [
        f"Traveller {b.user_id} (chat {b.chat_id}) · {esc(b.email)}",
        f"{money(b.price.fare_per_passenger, b.price.currency)} × "
        f"{b.price.passengers} = {money(b.price.total, b.price.currency)}",
        "Passengers: " + "; ".join(f"{esc(p.full_name)} ({p.birth_date or 'personal details removed'})"
                                   for p in b.passengers),
        f"Payment: attempt {b.payment.attempt}, {b.payment.status}"
        + (f", intent {esc(b.payment.payment_intent_id)}" if b.payment.payment_intent_id else "")
        + (f", refund {esc(b.payment.refund_id)}" if b.payment.refund_id else ""),
    ]
    if svc.payments is not None:
        for a in await svc.payments.summary(b):
            lines.append(f"  · attempt {a['attempt']}: {esc(a['session'])} {money(a['amount'], a['currency'])} "
                         f"{a['status']}")
    lines.append("History:")
    for event in await svc.bookings.history(b):
        # The event's kind stays as a tag at the end: what the logs and the audit are searched by.
        lines.append(f"  · {event.at.astimezone(ZoneInfo('UTC')):%d %b %H:%M} UTC {esc(history_words(event))} "
                     f"— {esc(event.actor)} [{esc(event.kind)}]")
    await audit(svc.clock, turn.user_id, "booking", b.reference, "shown")
    turn.say("\n".join(lines)[:4000])


async def resend(turn: Turn, args: list[str]) -> None:
    if not args:
        turn.say("Usage: /resend REF")
        return
    svc = turn.svc
    reference = args[0].upper()[:40]
    if svc.payments is None:
        await audit(svc.clock, turn.user_id, "resend", reference, "refused", "payments not configured")
        turn.say("Payments are not configured on this FlyO (no Stripe key), so there is no link to resend.")
        return
    try:
        booking = await svc.bookings.by_reference(reference)
        if booking.status == BookingStatus.CONFIRMED:
            await svc.payments.resend_confirmation(booking, actor=f"admin:{turn.user_id}")
            await audit(svc.clock, turn.user_id, "resend", reference, "sent", "confirmation")
            turn.say(f"Sent the confirmation of <b>{reference}</b> to the traveller again by chat and e-mail.")
            return
        link = await svc.payments.resend(booking, actor=f"admin:{turn.user_id}")
    except FlyOError as exc:
        await audit(svc.clock, turn.user_id, "resend", reference, "refused", str(exc))
        turn.say(f"Can't resend: {esc(exc)}")
        return
    await audit(svc.clock, turn.user_id, "resend", reference, "sent", f"attempt {link.attempt}")
    kind = "the open link" if link.reused else f"a new link (attempt {link.attempt})"
    turn.say(f"Sent {kind} for <b>{reference}</b> to the traveller by chat and e-mail.")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("booking", admin_only("booking", booking_details), filters=private))
    app.add_handler(CommandHandler("resend", admin_only("resend", resend), filters=private))
