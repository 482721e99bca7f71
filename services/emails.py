"""E-mail texts (plain and HTML) for confirmations, payment links and cancellations."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from models.booking import Booking
from services.airports import AirportDirectory
from services.money import money
from services.payment_texts import is_demo_payment

DEMO_PAID_EMAIL = ("DEMO PAYMENT: this booking was paid in FlyO's terminal-chat demo, without Stripe. "
                   "No money was taken.")


def _local(moment: datetime, code: str, airports: AirportDirectory) -> str:
    airport = airports.get(code)
    tz = airport.tz if airport else "UTC"
    return moment.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y, %H:%M") + f" local time ({code})"


def _details(booking: Booking, airports: AirportDirectory) -> list[str]:
    f = booking.flight
    origin, dest = airports.get(f.origin), airports.get(f.destination)
    lines = [
        f"Booking reference: {booking.reference}",
        f"Flight: {f.flight_number} {origin.city if origin else f.origin} ({f.origin}) → "
        f"{dest.city if dest else f.destination} ({f.destination})",
        f"Departs: {_local(f.departs_at, f.origin, airports)}",
        f"Arrives: {_local(f.arrives_at, f.destination, airports)}",
        f"Cabin: {f.cabin.title()}",
        "Passengers:",
    ]
    lines += [f"  {i + 1}. {p.full_name} — seat {booking.seats[i]}" for i, p in enumerate(booking.passengers)]
    return lines


def _text(paragraphs: list[str], details: list[str]) -> str:
    return "\n".join([*paragraphs, "", *details, "", "— FlyO"])


def _html(paragraphs: list[str], details: list[str]) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    rows = "<br>".join(html.escape(line) for line in details)
    return f"<html><body style='font-family:sans-serif'>{body}<p>{rows}</p><p>— FlyO</p></body></html>"


def confirmation(booking: Booking, airports: AirportDirectory) -> tuple[str, str, str]:
    demo = is_demo_payment(booking)
    subject = (f"{'[DEMO] ' if demo else ''}FlyO booking {booking.reference} confirmed — "
               f"{booking.flight.origin} → {booking.flight.destination}")
    intro = [f"Your booking {booking.reference} is confirmed. Have a good flight!"]
    if demo:
        intro.append(DEMO_PAID_EMAIL)
    paid = money(booking.payment.amount_paid or booking.price.total, booking.price.currency)
    details = [*_details(booking, airports), f"Total paid: {paid}" + (" (demo — no money was taken)" if demo else "")]
    return subject, _text(intro, details), _html(intro, details)


def payment_link(booking: Booking, url: str, deadline: str, airports: AirportDirectory,
                 demo: bool) -> tuple[str, str, str]:
    subject = f"Pay for FlyO booking {booking.reference}"
    intro = [f"Your seats are held. Pay {money(booking.price.total, booking.price.currency)} by {deadline} "
             f"to confirm booking {booking.reference}: {url}"]
    if demo:
        intro.append("DEMO MODE: this FlyO has no Stripe key; the link opens a demo checkout, no money moves.")
    details = _details(booking, airports)
    return subject, _text(intro, details), _html(intro, details)


def cancellation(booking: Booking, airports: AirportDirectory, refund_note: str) -> tuple[str, str, str]:
    subject = f"FlyO booking {booking.reference} cancelled"
    intro = [f"Your booking {booking.reference} has been cancelled ({booking.cancel_reason or 'on request'})."]
    if refund_note:
        intro.append(refund_note)
        if is_demo_payment(booking):
            intro.append("DEMO: the payment was a terminal-chat demo; no money was taken, so none moves back.")
    details = _details(booking, airports)
    return subject, _text(intro, details), _html(intro, details)
