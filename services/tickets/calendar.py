"""The booking as a calendar file (RFC 5545, issue #17): one VEVENT per flight, with a reminder 3 hours before.

Deterministic: the same booking renders the same bytes. Nothing reads "now": DTSTAMP is the booking's
confirmation time (`confirmed_ms`, else `created_at`), UIDs are `<reference>-<flight_id>@flyo`, and the events
come in the booking's flight order. Times are written in UTC (`…Z`): a calendar shows them in the reader's zone.
`icalendar` escapes what travellers typed (`;` `,` `\\` newlines) and folds lines at 75 octets.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from core.clock import as_utc
from core.formatting import cabin_name
from core.i18n import _
from models.booking import Booking, BookingStatus, Segment
from models.flight import FlightSnapshot
from services.airports import AirportDirectory

PRODID = "-//FlyO//e-ticket//EN"
ALARM_BEFORE = timedelta(hours=3)
UID_DOMAIN = "flyo"
MEDIA_TYPE = "text/calendar"
# A Telegram username: 5–32 letters, digits or underscores. Anything else is not put into a link.
_BOT_USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")


def _one_line(text: str) -> str:
    """A typed name on one line: control characters and line breaks become spaces, runs of spaces one."""
    return " ".join("".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text).split())


def _stamp(booking: Booking) -> datetime:
    if booking.confirmed_ms is not None:
        return datetime.fromtimestamp(booking.confirmed_ms / 1000, UTC)
    return as_utc(booking.created_at)


def _city(code: str, airports: AirportDirectory) -> str:
    return airports.city(code)


def _place(flight: FlightSnapshot, airports: AirportDirectory) -> str:
    """"London Heathrow Airport (LHR)", with " Terminal 5" when the snapshot knows the terminal."""
    airport = airports.get(flight.origin)
    place = f"{airport.name} ({flight.origin})" if airport else flight.origin
    terminal = getattr(flight, "terminal", None)  # snapshots carry no terminal yet; a later one may
    if terminal:
        place = _("{place} Terminal {terminal}").format(place=place, terminal=terminal)
    return place


def _summary(flight: FlightSnapshot, airports: AirportDirectory) -> str:
    return _("{flight} {origin} → {destination}").format(
        flight=flight.flight_number, origin=_city(flight.origin, airports),
        destination=_city(flight.destination, airports))


def _description(booking: Booking, segment: Segment, bot_username: str) -> str:
    lines = [_("Booking reference: {reference}").format(reference=booking.reference),
             _("Cabin: {cabin}").format(cabin=cabin_name(segment.flight.cabin)),
             _("Passengers:")]
    for index, passenger in enumerate(booking.passengers):
        seat, name = booking.seat_of(segment, index), _one_line(passenger.full_name)
        if passenger.on_lap:
            lines.append(_("{name} (infant on a lap)").format(name=name))
        elif seat:
            lines.append(_("{name}, seat {seat}").format(name=name, seat=seat))
        else:
            lines.append(name)
    if bot_username:
        lines.append(_("Your booking in Telegram: {link}").format(link=f"https://t.me/{bot_username}"))
    return "\n".join(lines)


def _event(booking: Booking, segment: Segment, airports: AirportDirectory, stamp: datetime,
           bot_username: str) -> Event:
    flight = segment.flight
    summary = _summary(flight, airports)
    event = Event()
    event.add("uid", f"{booking.reference}-{flight.flight_id}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", as_utc(flight.departs_at))
    event.add("dtend", as_utc(flight.arrives_at))
    event.add("summary", summary)
    event.add("location", _place(flight, airports))
    event.add("description", _description(booking, segment, bot_username))
    event.add("transp", "OPAQUE")
    if bot_username:
        event.add("url", f"https://t.me/{bot_username}")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -ALARM_BEFORE)
    alarm.add("description", _("{summary} departs in 3 hours").format(summary=summary))
    event.add_component(alarm)
    return event


def booking_ics(booking: Booking, airports: AirportDirectory, *, bot_username: str = "") -> bytes:
    """The booking's flights as an .ics file (UTF-8, CRLF lines). A cancelled booking has none: ValueError."""
    if booking.status == BookingStatus.CANCELLED:
        raise ValueError(f"booking {booking.reference} is cancelled: it has no calendar entry")
    if not booking.segments:
        raise ValueError(f"booking {booking.reference} has no flights")
    username = bot_username.lstrip("@")
    username = username if _BOT_USERNAME.fullmatch(username) else ""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    stamp = _stamp(booking)
    for segment in booking.segments:
        calendar.add_component(_event(booking, segment, airports, stamp, username))
    ics: bytes = calendar.to_ical()
    return ics
