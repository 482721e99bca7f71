"""A booking's e-ticket pages: what each page of the PDF says, composed from the booking alone (issue #17).

One page per passenger per flight, in flight order then passenger order; a lap infant has no page of their own but
a line on the page of "their" adult (the k-th lap infant rides with the k-th seated adult, as the booking lists
them: FlyO does not ask who holds whom, and the airline only needs every infant on some adult's coupon).

Pure: the booking (with its `tickets` issued), the reference data, and nothing that moves — no clock, no database
— so the same booking gives the same pages, and the same PDF bytes (services.tickets.pdf is deterministic too).

The barcode is the IATA BCBP mandatory-items string of the passenger on that flight (services.tickets.bcbp):
- carrier and flight number are read from the flight number as sold ("FO280" → "FO", 280; "U21234" → "U2",
  1234): the IATA designator is two characters (a letter and a digit are allowed), a third letter makes it a
  three-letter ICAO designator; an optional letter after the digits is the operational suffix;
- the date of flight is the day of the year of the *local* departure date at the origin;
- check-in sequence blank and passenger status "0": these pages are issued before check-in (the airline fills
  both at check-in, on the boarding pass).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from core.clock import as_utc
from core.formatting import cabin_name, duration, local_date, local_datetime, money
from core.i18n import _, ngettext
from models.booking import Booking, Segment
from models.flight import FlightSnapshot
from services import fare_rules
from services.infants import is_adult
from services.providers.amadeus_parse import checked_bags
from services.reference import ReferenceData
from services.tickets import barcodes, bcbp
from services.tickets.pdf import TicketPage

LOCAL_CARRIER = "FlyO"
_FLIGHT = re.compile(r"(?P<carrier>[A-Z0-9]{2}(?:[A-Z](?=\d))?)\s*(?P<number>\d{1,4})(?P<suffix>[A-Z]?)")


class NotTicketable(ValueError):
    """The booking cannot be ticketed as it is (not CONFIRMED, or its tickets are not issued)."""


def carrier_and_number(flight_number: str) -> tuple[str, int, str]:
    """"FO280" → ("FO", 280, ""); "BA 117A" → ("BA", 117, "A"). ValueError for what is not a flight number."""
    found = _FLIGHT.fullmatch(flight_number.strip().upper())
    if found is None or found["carrier"].isdigit():  # a designator has at least one letter
        raise ValueError(f"not a flight number: {flight_number!r}")
    return found["carrier"], int(found["number"]), found["suffix"]


def zone_label(moment: datetime, tz: str) -> str:
    """The zone as a ticket prints it: "GMT", "EST", "CET"; "UTC+4" / "UTC+5:30" where tzdata has no letters."""
    local = as_utc(moment).astimezone(ZoneInfo(tz))
    name = local.tzname() or ""
    if name.isalpha():
        return name
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "") if minutes else "UTC"


def _tz(code: str, reference: ReferenceData) -> str:
    return reference.airports.tz(code)


def local_moment(moment: datetime, code: str, reference: ReferenceData) -> str:
    """"Tue 12 Jan 2027, 09:40 GMT": the date and time at the airport, with its zone."""
    tz = _tz(code, reference)
    return f"{local_datetime(as_utc(moment), tz)} {zone_label(moment, tz)}"


def boarding_leg(booking: Booking, segment: Segment, passenger: int, reference: ReferenceData) -> bcbp.BoardingLeg:
    """The BCBP items of the `passenger`-th passenger (from 0) on `segment`."""
    flight = segment.flight
    carrier, number, suffix = carrier_and_number(flight.flight_number)
    local_day = as_utc(flight.departs_at).astimezone(ZoneInfo(_tz(flight.origin, reference))).date()
    person = booking.passengers[passenger]
    seat = bcbp.INFANT_SEAT if person.on_lap else (booking.seat_of(segment, passenger) or "")
    return bcbp.BoardingLeg(
        name=bcbp.bcbp_name(person.full_name, passenger + 1), pnr=booking.reference, origin=flight.origin,
        destination=flight.destination, carrier=carrier, flight_number=number, flight_suffix=suffix,
        julian_date=bcbp.julian_date(local_day), compartment=bcbp.compartment(flight.cabin), seat=seat,
        check_in_sequence="")


def lap_infants_by_adult(booking: Booking) -> dict[int, int]:
    """Seated passenger index → the lap infant's index riding with them (the k-th infant with the k-th adult)."""
    infants = [i for i, p in enumerate(booking.passengers) if p.on_lap]
    first_day = min(as_utc(s.flight.departs_at).date() for s in booking.segments)
    seated = [i for i, p in enumerate(booking.passengers) if not p.on_lap]
    # A redacted booking (services.erasure) has no birth dates left: its seated passengers count as adults.
    adults = [i for i in seated if (born := booking.passengers[i].birth_date) is None or is_adult(born, first_day)] \
        or seated
    return dict(zip(adults, infants, strict=False))


def _carrier_line(flight: FlightSnapshot) -> str:
    if flight.source == "local":
        return LOCAL_CARRIER
    carrier, _number, _suffix = carrier_and_number(flight.flight_number)
    return _("Operated by {carrier}").format(carrier=carrier)


def _baggage(flight: FlightSnapshot) -> str | None:
    """Checked bags where the fare says (live fares carry it); None where FlyO does not know."""
    bags = checked_bags(flight.offer) if flight.offer else None
    if bags is None:
        return None
    if bags == 0:
        return _("No checked bag included")
    return ngettext("{count} checked bag", "{count} checked bags", bags).format(count=bags)


def _fare(booking: Booking, segment: Segment, infant: bool) -> str:
    currency = booking.price.currency
    fare = money(segment.fare_per_passenger, currency)
    if infant:
        return _("{fare} + infant {infant_fare}").format(fare=fare, infant_fare=money(segment.infant_fare, currency))
    return fare


def _airport_name(code: str, reference: ReferenceData) -> tuple[str, str]:
    airport = reference.airports.get(code)
    return (airport.city, airport.name) if airport else (code, code)


@lru_cache(maxsize=512)
def _barcodes(text: str) -> tuple[bytes, bytes]:
    """PDF417 and QR of one BCBP string (a re-sent ticket draws the same symbols: kept for a while)."""
    return barcodes.pdf417_png(text), barcodes.qr_png(text)


def ticket_pages(booking: Booking, reference: ReferenceData) -> list[TicketPage]:
    """Every page of the booking's e-ticket. NotTicketable unless it has issued ticket numbers."""
    issue = booking.tickets
    if issue is None or len(issue.numbers) != len(booking.passengers):
        raise NotTicketable(f"booking {booking.reference} has no ticket numbers")
    issued_on = local_date(datetime.fromtimestamp(issue.issued_ms / 1000, UTC).date())
    infant_of = lap_infants_by_adult(booking)
    pages: list[TicketPage] = []
    for segment in booking.segments:
        flight = segment.flight
        origin_city, origin_airport = _airport_name(flight.origin, reference)
        destination_city, destination_airport = _airport_name(flight.destination, reference)
        aircraft = reference.aircraft.get(flight.aircraft)
        conditions = " ".join([fare_rules.conditions(segment.fare_rule) + ".", _(
            "Changes and cancellations through the FlyO chat. Present this receipt with your passport or ID.")])
        for index, person in enumerate(booking.passengers):
            if person.on_lap:
                continue
            infant = infant_of.get(index)
            infant_line = None if infant is None else _("+ infant on lap: {name} · ticket {number}").format(
                name=booking.passengers[infant].full_name, number=issue.numbers[infant])
            text = bcbp.encode(boarding_leg(booking, segment, index, reference))
            pdf417, qr = _barcodes(text)
            pages.append(TicketPage(
                booking_reference=booking.reference, ticket_number=issue.numbers[index],
                passenger_name=person.full_name, infant_line=infant_line, flight_number=flight.flight_number,
                carrier=_carrier_line(flight), origin_city=origin_city, origin_airport=origin_airport,
                origin_iata=flight.origin, destination_city=destination_city,
                destination_airport=destination_airport, destination_iata=flight.destination,
                departure=local_moment(flight.departs_at, flight.origin, reference),
                arrival=local_moment(flight.arrives_at, flight.destination, reference),
                duration=duration(int((as_utc(flight.arrives_at) - as_utc(flight.departs_at)).total_seconds() // 60)),
                aircraft=aircraft.name if aircraft else flight.aircraft, cabin=cabin_name(flight.cabin),
                seat=booking.seat_of(segment, index) or "—", fare=_fare(booking, segment, infant is not None),
                issued_on=issued_on, baggage=_baggage(flight), conditions=conditions, bcbp=text,
                pdf417_png=pdf417, qr_png=qr))
    return pages


def page_count(booking: Booking) -> int:
    """How many pages the e-ticket has: seated passengers × flights."""
    return sum(1 for p in booking.passengers if not p.on_lap) * len(booking.segments)


def issued_at(booking: Booking) -> datetime:
    """The PDF's creation date: the ticket's issue time (stored), never "now"."""
    if booking.tickets is None:
        raise NotTicketable(f"booking {booking.reference} has no ticket numbers")
    return datetime.fromtimestamp(booking.tickets.issued_ms / 1000, UTC)


__all__ = ["NotTicketable", "boarding_leg", "carrier_and_number", "issued_at", "lap_infants_by_adult",
           "page_count", "ticket_pages", "zone_label"]
