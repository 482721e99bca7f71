"""What the traveller and the admins are told about payments (HTML for Telegram, text for e-mail)."""

from __future__ import annotations

import html

from core.clock import from_ms
from core.formatting import local_datetime, local_time
from core.i18n import N_, _, ngettext
from models.booking import Booking
from services import itinerary_texts
from services.airports import AirportDirectory
from services.money import money

DEMO_LABEL = N_("🧪 DEMO payment — this FlyO has no Stripe key, so no real money moves.")
DEMO_PAID = N_("🧪 DEMO payment — no money was taken")


def is_demo_payment(booking: Booking) -> bool:
    """Paid (or being paid) through the terminal chat's demo checkout, not Stripe (ids Stripe never issues)."""
    p = booking.payment
    return (p.session_id or "").startswith("cs_demo_") or (p.payment_intent_id or "").startswith("pi_demo_")


def deadline_text(expires_ms: int, booking: Booking, airports: AirportDirectory, now_ms: int) -> str:
    """"within 30 minutes (by 14:35 London time)": relative first, then the origin's clock."""
    airport = airports.get(booking.first_flight.origin)
    tz = airport.tz if airport else "UTC"
    city = airport.city if airport else booking.first_flight.origin
    minutes = max(0, (expires_ms - now_ms) // 60_000)
    clock = local_time(from_ms(expires_ms), tz)
    return ngettext("within {minutes} minute (by {clock} {city} time)",
                    "within {minutes} minutes (by {clock} {city} time)", minutes).format(
        minutes=minutes, clock=clock, city=city)


def payment_link_message(booking: Booking, deadline: str, attempt: int, max_attempts: int, demo: bool) -> str:
    total = money(booking.price.total, booking.price.currency)
    lines = [
        "💳 " + (_("<b>Booking {reference}</b> — {flight} {origin} → {destination}, seats {seats}.").format(
            reference=booking.reference, flight=html.escape(booking.first_flight.flight_number),
            origin=booking.first_flight.origin, destination=_arrival(booking), seats=itinerary_texts.seats(booking))
                 if len(booking.segments) == 1 else
                 _("<b>Booking {reference}</b> — {route}: {flights}, seats {seats}.").format(
            reference=booking.reference, route=itinerary_texts.route(booking),
            flights=html.escape(itinerary_texts.flight_numbers(booking)), seats=itinerary_texts.seats(booking))),
        _("Pay <b>{total}</b> {deadline} to confirm it. Your seats are held until then.").format(
            total=total, deadline=deadline),
    ]
    if attempt > 1:
        lines.append(_("Payment attempt {attempt} of {max_attempts}.").format(
            attempt=attempt, max_attempts=max_attempts))
    if demo:
        lines.append(_(DEMO_LABEL) + " " + _("Open the link and press <b>Pay (demo)</b> (or type <code>pay</code> "
                                             "in the console) to complete it."))
    return "\n".join(lines)


def _arrival(booking: Booking) -> str:
    """Where the trip goes: the last flight's destination, or the outbound's for a return ("LHR → JFK")."""
    return booking.legs()[0][-1].flight.destination


def confirmed_message(booking: Booking, airports: AirportDirectory, *, pnr: str | None = None,
                      order_id: str | None = None) -> str:
    """`pnr`/`order_id`: a live fare's airline booking reference and Amadeus order id, once the order exists."""
    paid = money(booking.payment.amount_paid or booking.price.total, booking.price.currency)
    names = ", ".join(html.escape(p.full_name) if not p.on_lap else
                      _("{name} (infant on a lap)").format(name=html.escape(p.full_name)) for p in booking.passengers)
    demo = f" ({_(DEMO_PAID)})" if is_demo_payment(booking) else ""
    if len(booking.segments) > 1:
        return "✅ " + "\n".join([
            _("<b>Booking {reference} is confirmed.</b>").format(reference=booking.reference),
            *itinerary_texts.itinerary_lines(booking, airports),
            _("Passengers: {names}.").format(names=names),
            _("Paid {paid}{demo}. The confirmation e-mail is on its way to {email}.").format(
                paid=paid, demo=demo, email=html.escape(_mask(booking.email)))]) + airline_line(pnr, order_id)
    flight = booking.first_flight
    airport = airports.get(flight.origin)
    when = local_datetime(flight.departs_at, airport.tz if airport else "UTC")
    return "✅ " + _("<b>Booking {reference} is confirmed.</b>\n"
                    "{flight} {origin} → {destination}, departs {when} local time. Seats {seats} for {names}.\n"
                    "Paid {paid}{demo}. The confirmation e-mail is on its way to {email}.").format(
        reference=booking.reference, flight=html.escape(flight.flight_number), origin=flight.origin,
        destination=flight.destination, when=when, seats=itinerary_texts.seats(booking), names=names, paid=paid,
        demo=demo, email=html.escape(_mask(booking.email))) + airline_line(pnr, order_id)


def airline_line(pnr: str | None, order_id: str | None) -> str:
    """"\nAirline booking reference (PNR): ABC123 (order …)." for a live fare's order; "" without one."""
    if not pnr:
        return ""
    return "\n" + _("Airline booking reference (PNR): <b>{pnr}</b> (order {order_id}).").format(
        pnr=html.escape(pnr), order_id=html.escape(order_id or "-"))


def order_failed_message(booking: Booking, refunded: int) -> str:
    """The airline refused (or never confirmed) a paid live fare: cancelled and refunded."""
    if refunded:
        text = _("Sorry — the airline could not issue booking <b>{reference}</b>, so it is cancelled and we "
                 "refunded your payment in full ({amount}). Refunds take 5–10 days to appear. Send /search to "
                 "book another flight.")
    else:
        text = _("Sorry — the airline could not issue booking <b>{reference}</b>, so it is cancelled. Our team "
                 "will refund your payment. Send /search to book another flight.")
    return "❌ " + text.format(reference=booking.reference, amount=money(refunded, booking.price.currency))


def _mask(email: str) -> str:
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else email


def payment_failed_message(booking: Booking, expired: bool, can_retry: bool, attempts_left: int) -> str:
    if can_retry:
        if expired:
            text = ngettext("Your payment link expired for booking <b>{reference}</b>. Your seats are still held "
                            "for now — tap <b>Pay again</b> for a new link ({left} attempt left).",
                            "Your payment link expired for booking <b>{reference}</b>. Your seats are still held "
                            "for now — tap <b>Pay again</b> for a new link ({left} attempts left).", attempts_left)
        else:
            text = ngettext("Your payment did not go through for booking <b>{reference}</b>. Your seats are still "
                            "held for now — tap <b>Pay again</b> for a new link ({left} attempt left).",
                            "Your payment did not go through for booking <b>{reference}</b>. Your seats are still "
                            "held for now — tap <b>Pay again</b> for a new link ({left} attempts left).",
                            attempts_left)
    elif expired:
        text = _("Your payment link expired for booking <b>{reference}</b>, and no payment attempts are left. "
                 "Send /search to book again.")
    else:
        text = _("Your payment did not go through for booking <b>{reference}</b>, and no payment attempts are left. "
                 "Send /search to book again.")
    return "⌛ " + text.format(reference=booking.reference, left=attempts_left)


def late_refund_message(booking: Booking, amount: int) -> str:
    if is_demo_payment(booking):
        text = _("Your payment for booking <b>{reference}</b> arrived after the booking was cancelled, so we "
                 "refunded it in full ({amount}). {demo}, so none moves back. Send /search to book again.")
    else:
        text = _("Your payment for booking <b>{reference}</b> arrived after the booking was cancelled, so we "
                 "refunded it in full ({amount}). Refunds take 5–10 days to appear. Send /search to book again.")
    return "↩️ " + text.format(reference=booking.reference, amount=money(amount, booking.price.currency),
                              demo=_(DEMO_PAID))


NO_REFUND_DUE = N_("No refund is due under your fare's conditions.")


def cancelled_message(booking: Booking, refund_amount: int | None, message: str = "", *,
                      no_refund_due: bool = False) -> str:
    """`message`: an admin's words for the traveller (their internal reason stays in the audit log).
    `no_refund_due`: paid, and the fare's conditions refund nothing now."""
    parts = ["❌ " + _("Booking <b>{reference}</b> has been cancelled ({reason}).").format(
        reference=booking.reference, reason=html.escape(booking.cancel_reason or ""))]
    if message:
        parts.append(_("Message from FlyO: {message}").format(message=html.escape(message)))
    if refund_amount:
        refunded = money(refund_amount, booking.price.currency)
        parts.append(_("We refunded {amount} to your card.").format(amount=refunded))
        if is_demo_payment(booking):
            parts.append("(" + _("{demo}, so none moves back.").format(demo=_(DEMO_PAID)) + ")")
    elif no_refund_due:
        parts.append(_(NO_REFUND_DUE))
    parts.append(_("Send /search to book another flight."))
    return " ".join(parts)
