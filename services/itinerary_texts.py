"""How a booking's itinerary is worded, the same in the chat, the e-mails, /mybookings and the admin card.

A one-flight booking reads as before ("FO101 LHR → JFK, seats 12A, 12B"); a return trip or a connection lists
every flight in airport-local times, grouped by way ("Outbound", "Return").
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from core.formatting import cabin_name, local_date, local_datetime, money
from core.i18n import N_, _, ngettext, translate
from models.booking import Booking, BookingStatus, PaymentStatus, Segment
from services.airports import AirportDirectory


def _tz(code: str, airports: AirportDirectory) -> str:
    airport = airports.get(code)
    return airport.tz if airport else "UTC"


def route(booking: Booking) -> str:
    """How the trip is written everywhere (chat, e-mail subject, /mybookings): "LHR → JFK"; a connection with its
    stops, "LHR → DXB → SYD"; a return, "LHR ⇄ JFK"."""
    ways = booking.legs()
    if len(ways) > 1:
        return f"{ways[0][0].flight.origin} ⇄ {ways[0][-1].flight.destination}"
    return " → ".join([ways[0][0].flight.origin, *(s.flight.destination for s in ways[0])])


def flight_numbers(booking: Booking) -> str:
    return ", ".join(s.flight.flight_number for s in booking.segments)


def seats(booking: Booking) -> str:
    """"12A, 12B" for one flight; "FO101 12A, 12B · FO202 3C, 3D" for several."""
    if len(booking.segments) == 1:
        return ", ".join(booking.segments[0].seats)
    return " · ".join(f"{s.flight.flight_number} {', '.join(s.seats)}" for s in booking.segments)


def way_name(leg: int, ways: int) -> str:
    if ways < 2:
        return _("Flight")
    return _("Outbound") if leg == 0 else _("Return")


def segment_line(segment: Segment, airports: AirportDirectory, *, markup: bool = True) -> str:
    """"FO101 LHR → JFK · departs Tue 15 Dec 2026, 09:00 (LHR) · arrives Tue 15 Dec 2026, 12:05 (JFK) · Economy ·
    seats 12A, 12B" ("seat 12A" for one)."""
    f = segment.flight
    number = f"<b>{html.escape(f.flight_number)}</b>" if markup else f.flight_number
    seats = ngettext("seat {seats}", "seats {seats}", len(segment.seats)).format(seats=", ".join(segment.seats))
    return _("{flight} {origin} → {destination} · departs {departs} ({origin}) · arrives {arrives} ({destination}) "
             "· {cabin} · {seats}").format(
        flight=number, origin=f.origin, destination=f.destination,
        departs=local_datetime(f.departs_at, _tz(f.origin, airports)),
        arrives=local_datetime(f.arrives_at, _tz(f.destination, airports)), cabin=cabin_name(f.cabin), seats=seats)


def itinerary_lines(booking: Booking, airports: AirportDirectory, *, markup: bool = True) -> list[str]:
    """Every flight, grouped by way: a heading per way when there are two ("Outbound:", "Return:")."""
    ways = booking.legs()
    lines: list[str] = []
    for leg, segments in enumerate(ways):
        if len(ways) > 1:
            heading = way_name(leg, len(ways)) + ":"
            lines.append(f"<b>{heading}</b>" if markup else heading)
        lines += [("  " if len(ways) > 1 else "") + segment_line(s, airports, markup=markup) for s in segments]
    return lines


STATUS_LABELS = {BookingStatus.PENDING: N_("awaiting payment"), BookingStatus.CONFIRMED: N_("confirmed"),
                 BookingStatus.CANCELLED: N_("cancelled")}


def status_label(status: BookingStatus) -> str:
    """A booking's status as a word in a sentence ("Booking K7Q2MX is confirmed"), in the traveller's language."""
    return translate(STATUS_LABELS.get(status, status.value))


def status_words(booking: Booking, now_ms: int) -> str:
    """Where the booking stands, in words: "Awaiting payment — 12 min left", "Confirmed", "Cancelled, refunded
    £778.00 on Thu 03 Dec 2026" (the refund from `booking.payment`)."""
    p = booking.payment
    if booking.status == BookingStatus.PENDING:
        if p.status == PaymentStatus.OPEN and p.expires_ms > now_ms:
            minutes = -(-(p.expires_ms - now_ms) // 60_000)
            return ngettext("Awaiting payment — {count} min left", "Awaiting payment — {count} min left",
                            minutes).format(count=minutes)
        return _("Awaiting payment — tap Pay for a payment link")
    if booking.status == BookingStatus.CONFIRMED:
        return _("Confirmed")
    if p.status == PaymentStatus.REFUNDED:
        on = local_date(datetime.fromtimestamp(booking.updated_ms / 1000, UTC).date())
        return _("Cancelled, refunded {amount} on {day}").format(
            amount=money(p.amount_paid or booking.price.total, booking.price.currency), day=on)
    if p.status == PaymentStatus.REFUND_FAILED:
        return _("Cancelled — the refund is delayed; our team is on it")
    return _("Cancelled")


def passenger_lines(booking: Booking) -> list[str]:
    """"1. Ada Lovelace · FO101 12A · FO102 3C" — every passenger with their seat on each flight (escaped)."""
    lines = []
    for number, person in enumerate(booking.passengers, start=1):
        seats = [_("infant on a lap")] if person.on_lap else [
            f"{s.flight.flight_number} {seat}" for s in booking.segments
            if (seat := booking.seat_of(s, number - 1)) is not None]
        lines.append(" · ".join([f"{number}. {html.escape(person.full_name)}", *map(html.escape, seats)]))
    return lines
