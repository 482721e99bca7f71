"""How a flight's status is worded: the travellers' alerts (chat and e-mail), the status line of /mybookings and
the reminder, the admin's card. Times are the airport's local time, as on the departure boards."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from core.clock import as_utc, from_ms
from core.formatting import day_month, local_date, local_day_time, local_time
from core.i18n import _
from models.booking import Booking, Segment
from models.flight import FlightSnapshot
from models.flight_status import FlightState, FlightStatusEvent, FlightStatusKind
from services.airports import AirportDirectory
from services.reference import ReferenceData

ALERTED = frozenset({FlightStatusKind.SCHEDULED, FlightStatusKind.DELAYED, FlightStatusKind.GATE,
                     FlightStatusKind.BOARDING, FlightStatusKind.CANCELLED, FlightStatusKind.DIVERTED})
# DEPARTED and LANDED are stored and shown, not sent: the traveller is on board, or has arrived.


def _tz(code: str, airports: AirportDirectory) -> str:
    return airports.tz(code)


def _city(code: str, airports: AirportDirectory) -> str:
    return airports.city(code)


def _at(moment: datetime, code: str, airports: AirportDirectory) -> str:
    """"14:15 London time"."""
    return _("{time} {city} time").format(time=local_time(as_utc(moment), _tz(code, airports)),
                                         city=_city(code, airports))


def flight_title(flight: FlightSnapshot, airports: AirportDirectory) -> str:
    """"FO280 London → New York on Thu 03 Dec 2026" (the origin's local date)."""
    day = as_utc(flight.departs_at).astimezone(_zone(flight.origin, airports)).date()
    return _("{flight} {origin} → {destination} on {day}").format(
        flight=flight.flight_number, origin=_city(flight.origin, airports),
        destination=_city(flight.destination, airports), day=local_date(day))


def _zone(code: str, airports: AirportDirectory) -> ZoneInfo:
    return ZoneInfo(_tz(code, airports))


def _where(gate: str | None, terminal: str | None) -> str:
    if gate and terminal:
        return _("terminal {terminal}, gate {gate}").format(terminal=terminal, gate=gate)
    if gate:
        return _("gate {gate}").format(gate=gate)
    return _("terminal {terminal}").format(terminal=terminal) if terminal else ""


def alert_text(event: FlightStatusEvent, segment: Segment, airports: AirportDirectory, *, markup: bool = True
               ) -> str:
    """The traveller's alert for one event on one of their flights (HTML unless not `markup`)."""
    flight = segment.flight
    title = flight_title(flight, airports)
    if markup:
        title = f"<b>{html.escape(title)}</b>"
    reason = html.escape(event.reason) if markup else event.reason
    because = _(" Reason: {reason}.").format(reason=reason) if event.reason else ""
    where = _where(event.gate, event.terminal)
    if event.kind == FlightStatusKind.DELAYED and event.departs_ms is not None:
        text = _("⏰ {title} is delayed. New departure {new} (was {old}).").format(
            title=title, new=_at(from_ms(event.departs_ms), flight.origin, airports),
            old=local_time(as_utc(flight.departs_at), _tz(flight.origin, airports)))
        if event.arrives_ms is not None:
            text += " " + _("Arrival about {arrives}.").format(
                arrives=_at(from_ms(event.arrives_ms), flight.destination, airports))
        return text + because
    if event.kind == FlightStatusKind.GATE:
        return _("🚪 {title} departs from {where}.").format(title=title, where=where or _("a gate to be announced"))
    if event.kind == FlightStatusKind.BOARDING:
        return _("🛫 {title} is boarding{at}.").format(title=title, at=(" " + _("at {where}").format(where=where))
                                                       if where else "")
    if event.kind == FlightStatusKind.CANCELLED:
        return _("❌ {title} is cancelled.{because} We are sorry.").format(title=title, because=because)
    if event.kind == FlightStatusKind.DIVERTED:
        return _("↪️ {title} is diverted to {airport}.{because}").format(
            title=title, airport=_city(event.diverted_to or "", airports), because=because)
    if event.kind == FlightStatusKind.SCHEDULED:
        return _("✅ {title} is on schedule again: departure {at}.").format(
            title=title, at=_at(flight.departs_at, flight.origin, airports))
    return _("ℹ️ {title}: {status}.").format(title=title, status=status_name(event.kind))


def missed_text(onward: Segment, airports: AirportDirectory) -> str:
    """The missed-connection line: "⚠️ With this delay you miss your connection FO450 at Dubai (departs …)"."""
    flight = onward.flight
    return _("⚠️ With this delay you miss your connection {flight} at {city} (departs {at}).").format(
        flight=flight.flight_number, city=_city(flight.origin, airports),
        at=_at(flight.departs_at, flight.origin, airports))


def status_name(kind: FlightStatusKind) -> str:
    return {
        FlightStatusKind.SCHEDULED: _("On schedule"), FlightStatusKind.DELAYED: _("Delayed"),
        FlightStatusKind.GATE: _("Gate assigned"), FlightStatusKind.BOARDING: _("Boarding"),
        FlightStatusKind.DEPARTED: _("Departed"), FlightStatusKind.LANDED: _("Landed"),
        FlightStatusKind.CANCELLED: _("Cancelled"), FlightStatusKind.DIVERTED: _("Diverted"),
    }[kind]


def state_line(state: FlightState | None, flight: FlightSnapshot, airports: AirportDirectory) -> str | None:
    """The status under a flight in /mybookings and reminders ("⏰ Delayed: departs 14:15 London time · gate B32");
    None while nothing has changed."""
    if state is None:
        return None
    where = _where(state.gate, state.terminal)
    parts: list[str] = []
    if state.kind == FlightStatusKind.DELAYED and state.departs_ms is not None:
        parts.append(_("⏰ Delayed: departs {at}").format(at=_at(from_ms(state.departs_ms), flight.origin, airports)))
    elif state.kind == FlightStatusKind.CANCELLED:
        parts.append(_("❌ Flight cancelled"))
    elif state.kind == FlightStatusKind.DIVERTED:
        parts.append(_("↪️ Diverted to {airport}").format(airport=_city(state.diverted_to or "", airports)))
    elif state.kind != FlightStatusKind.SCHEDULED:
        parts.append(status_name(state.kind))
    if where:
        parts.append("🚪 " + where)
    return " · ".join(parts) or None


def departs_now(state: FlightState | None, flight: FlightSnapshot) -> datetime:
    """When the flight leaves by the latest status: the delay's new time, else the scheduled one."""
    if state is not None and state.departs_ms is not None and state.kind == FlightStatusKind.DELAYED:
        return from_ms(state.departs_ms)
    return as_utc(flight.departs_at)


def subject(event: FlightStatusEvent, segment: Segment, booking: Booking, airports: AirportDirectory) -> str:
    """The alert e-mail's subject: "FO280 on Thu 03 Dec 2026: Delayed — booking K7Q2MX"."""
    day = as_utc(segment.flight.departs_at).astimezone(_zone(segment.flight.origin, airports)).date()
    return _("{flight} on {day}: {status} — booking {reference}").format(
        flight=segment.flight.flight_number, day=local_date(day), status=status_name(event.kind),
        reference=booking.reference)


def sms_alert(event: FlightStatusEvent, segment: Segment, booking: Booking, airports: AirportDirectory) -> str:
    """The alert as one SMS (services.sms keeps it to 160 GSM characters): "FlyO: FO280 LHR-JFK 08 Dec delayed,
    departs 13:30 London time (was 12:45). Booking K7Q2MX"."""
    flight = segment.flight
    day = day_month(as_utc(flight.departs_at).astimezone(_zone(flight.origin, airports)).date())
    head = f"FlyO: {flight.flight_number} {flight.origin}-{flight.destination} {day}"
    if event.kind == FlightStatusKind.DELAYED and event.departs_ms is not None:
        what = _("delayed, departs {new} (was {old})").format(
            new=_at(from_ms(event.departs_ms), flight.origin, airports),
            old=local_time(as_utc(flight.departs_at), _tz(flight.origin, airports)))
    elif event.kind == FlightStatusKind.GATE:
        what = _("departs from {where}").format(where=_where(event.gate, event.terminal) or "?")
    elif event.kind == FlightStatusKind.CANCELLED:
        what = _("cancelled. Choose another flight or a refund in the FlyO chat")
    else:
        what = status_name(event.kind).lower()
    return f"{head} {what}. " + _("Booking {reference}").format(reference=booking.reference)


def moved_text(booking: Booking, segment: Segment, reference: ReferenceData, *, markup: bool = True) -> str:
    """"✅ Booking K7Q2MX is moved to FO282, departing Thu 03 Dec, 19:10 London time. Seats 12A, 12B. …"."""
    flight = segment.flight
    when = local_day_time(as_utc(flight.departs_at), reference.airports.tz(flight.origin))
    city = reference.airports.city(flight.origin)
    ref = f"<b>{booking.reference}</b>" if markup else booking.reference
    return _("✅ Booking {reference} is moved to {flight}, departing {when} {city} time. Seats {seats}. Same "
             "booking reference, same ticket numbers, nothing more to pay; your new e-ticket follows.").format(
        reference=ref, flight=flight.flight_number, when=when, city=city, seats=", ".join(segment.seats))
