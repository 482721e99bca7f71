"""E-mail texts (plain and HTML) for confirmations, payment links and cancellations."""

from __future__ import annotations

import html
from datetime import datetime

from core.formatting import cabin_name, local_datetime
from core.i18n import N_, _
from models.booking import Booking
from services import itinerary_texts
from services.airports import AirportDirectory
from services.money import money
from services.payment_texts import is_demo_payment

DEMO_PAID_EMAIL = N_("DEMO PAYMENT: this booking was paid in FlyO's terminal-chat demo, without Stripe. "
                     "No money was taken.")


def _local(moment: datetime, code: str, airports: AirportDirectory) -> str:
    airport = airports.get(code)
    tz = airport.tz if airport else "UTC"
    when = local_datetime(moment, tz)
    return _("{when} local time ({code})").format(when=when, code=code)


def _details(booking: Booking, airports: AirportDirectory) -> list[str]:
    lines = [_("Booking reference: {reference}").format(reference=booking.reference)]
    if len(booking.segments) > 1:
        lines += itinerary_texts.itinerary_lines(booking, airports, markup=False)
        lines.append(_("Passengers:"))
        lines += [f"  {i + 1}. {p.full_name}" for i, p in enumerate(booking.passengers)]
        return lines
    segment = booking.segments[0]
    f = segment.flight
    origin, dest = airports.get(f.origin), airports.get(f.destination)
    lines += [
        _("Flight: {flight} {origin_city} ({origin}) → {destination_city} ({destination})").format(
            flight=f.flight_number, origin_city=origin.city if origin else f.origin, origin=f.origin,
            destination_city=dest.city if dest else f.destination, destination=f.destination),
        _("Departs: {when}").format(when=_local(f.departs_at, f.origin, airports)),
        _("Arrives: {when}").format(when=_local(f.arrives_at, f.destination, airports)),
        _("Cabin: {cabin}").format(cabin=cabin_name(f.cabin)),
        _("Passengers:"),
    ]
    lines += [_("  {number}. {name} — seat {seat}").format(number=i + 1, name=p.full_name, seat=segment.seats[i])
              for i, p in enumerate(booking.passengers)]
    return lines


def _text(paragraphs: list[str], details: list[str]) -> str:
    return "\n".join([*paragraphs, "", *details, "", "— FlyO"])


def _html(paragraphs: list[str], details: list[str]) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    rows = "<br>".join(html.escape(line) for line in details)
    return f"<html><body style='font-family:sans-serif'>{body}<p>{rows}</p><p>— FlyO</p></body></html>"


def confirmation(booking: Booking, airports: AirportDirectory, *, pnr: str | None = None,
                 order_id: str | None = None) -> tuple[str, str, str]:
    """`pnr`/`order_id`: a live fare's airline booking reference and Amadeus order id, once the order exists."""
    demo = is_demo_payment(booking)
    subject = ("[DEMO] " if demo else "") + _("FlyO booking {reference} confirmed — {route}").format(
        reference=booking.reference, route=itinerary_texts.route(booking))
    intro = [_("Your booking {reference} is confirmed. Have a good flight!").format(reference=booking.reference)]
    if demo:
        intro.append(_(DEMO_PAID_EMAIL))
    paid = money(booking.payment.amount_paid or booking.price.total, booking.price.currency)
    total = _("Total paid: {amount}").format(amount=paid) + (_(" (demo — no money was taken)") if demo else "")
    details = [*_details(booking, airports), total]
    if pnr:
        details.append(_("Airline booking reference (PNR): {pnr} (order {order_id})").format(
            pnr=pnr, order_id=order_id or "-"))
    return subject, _text(intro, details), _html(intro, details)


def payment_link(booking: Booking, url: str, deadline: str, airports: AirportDirectory,
                 demo: bool) -> tuple[str, str, str]:
    subject = _("Pay for FlyO booking {reference}").format(reference=booking.reference)
    intro = [_("Your seats are held. Pay {amount} by {deadline} to confirm booking {reference}: {url}").format(
        amount=money(booking.price.total, booking.price.currency), deadline=deadline, reference=booking.reference,
        url=url)]
    if demo:
        intro.append(_("DEMO MODE: this FlyO has no Stripe key; the link opens a demo checkout, no money moves."))
    details = _details(booking, airports)
    return subject, _text(intro, details), _html(intro, details)


def cancellation(booking: Booking, airports: AirportDirectory, refund_note: str) -> tuple[str, str, str]:
    subject = _("FlyO booking {reference} cancelled").format(reference=booking.reference)
    intro = [_("Your booking {reference} has been cancelled ({reason}).").format(
        reference=booking.reference, reason=booking.cancel_reason or _("on request"))]
    if refund_note:
        intro.append(refund_note)
        if is_demo_payment(booking):
            intro.append(_("DEMO: the payment was a terminal-chat demo; no money was taken, so none moves back."))
    details = _details(booking, airports)
    return subject, _text(intro, details), _html(intro, details)
