"""What the traveller and the admins are told about payments (HTML for Telegram, text for e-mail)."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from core.clock import from_ms
from models.booking import Booking
from services.airports import AirportDirectory
from services.money import money

DEMO_LABEL = "🧪 DEMO payment — this FlyO has no Stripe key, so no real money moves."
DEMO_PAID = "🧪 DEMO payment — no money was taken"


def is_demo_payment(booking: Booking) -> bool:
    """Paid (or being paid) through the terminal chat's demo checkout, not Stripe (ids Stripe never issues)."""
    p = booking.payment
    return (p.session_id or "").startswith("cs_demo_") or (p.payment_intent_id or "").startswith("pi_demo_")


def deadline_text(expires_ms: int, booking: Booking, airports: AirportDirectory, now_ms: int) -> str:
    """"within 30 minutes (by 14:35 London time)": relative first, then the origin's clock."""
    airport = airports.get(booking.flight.origin)
    tz = airport.tz if airport else "UTC"
    city = airport.city if airport else booking.flight.origin
    minutes = max(0, (expires_ms - now_ms) // 60_000)
    clock = from_ms(expires_ms).astimezone(ZoneInfo(tz)).strftime("%H:%M")
    return f"within {minutes} minutes (by {clock} {city} time)"


def payment_link_message(booking: Booking, deadline: str, attempt: int, max_attempts: int, demo: bool) -> str:
    total = money(booking.price.total, booking.price.currency)
    lines = [
        f"💳 <b>Booking {booking.reference}</b> — {html.escape(booking.flight.flight_number)} "
        f"{booking.flight.origin} → {booking.flight.destination}, seats {', '.join(booking.seats)}.",
        f"Pay <b>{total}</b> {deadline} to confirm it. Your seats are held until then.",
    ]
    if attempt > 1:
        lines.append(f"Payment attempt {attempt} of {max_attempts}.")
    if demo:
        lines.append(DEMO_LABEL + " Open the link and press <b>Pay (demo)</b> (or type <code>pay</code> in the "
                     "console) to complete it.")
    return "\n".join(lines)


def confirmed_message(booking: Booking, airports: AirportDirectory) -> str:
    airport = airports.get(booking.flight.origin)
    tz = airport.tz if airport else "UTC"
    when = booking.flight.departs_at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y, %H:%M")
    paid = money(booking.payment.amount_paid or booking.price.total, booking.price.currency)
    names = ", ".join(html.escape(p.full_name) for p in booking.passengers)
    demo = f" ({DEMO_PAID})" if is_demo_payment(booking) else ""
    return (f"✅ <b>Booking {booking.reference} is confirmed.</b>\n"
            f"{html.escape(booking.flight.flight_number)} {booking.flight.origin} → {booking.flight.destination}, "
            f"departs {when} local time. Seats {', '.join(booking.seats)} for {names}.\n"
            f"Paid {paid}{demo}. The confirmation e-mail is on its way to {html.escape(_mask(booking.email))}.")


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else email


def payment_failed_message(booking: Booking, expired: bool, can_retry: bool, attempts_left: int) -> str:
    what = "Your payment link expired" if expired else "Your payment did not go through"
    if can_retry:
        return (f"⌛ {what} for booking <b>{booking.reference}</b>. Your seats are still held for now — tap "
                f"<b>Pay again</b> for a new link ({attempts_left} attempt(s) left).")
    return (f"⌛ {what} for booking <b>{booking.reference}</b>, and no payment attempts are left. "
            "Send /search to book again.")


def late_refund_message(booking: Booking, amount: int) -> str:
    return (f"↩️ Your payment for booking <b>{booking.reference}</b> arrived after the booking was cancelled, "
            f"so we refunded it in full ({money(amount, booking.price.currency)}). " + (
                f"{DEMO_PAID}, so none moves back. " if is_demo_payment(booking) else
                "Refunds take 5–10 days to appear. ") + "Send /search to book again.")


def cancelled_message(booking: Booking, refund_amount: int | None) -> str:
    text = f"❌ Booking <b>{booking.reference}</b> has been cancelled ({html.escape(booking.cancel_reason or '')})."
    if refund_amount:
        text += f" We refunded {money(refund_amount, booking.price.currency)} to your card."
        if is_demo_payment(booking):
            text += f" ({DEMO_PAID}, so none moves back.)"
    return text + " Send /search to book another flight."
