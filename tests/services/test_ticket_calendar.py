"""The booking's calendar file (services.tickets.calendar): RFC 5545 that parses back, one event per flight in UTC,
stable UIDs, a 3-hour reminder, the same bytes every time, and no calendar for a cancelled booking."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar, Component

from models.booking import Booking, BookingStatus, Leg, Passenger, PaymentState, PriceSnapshot, Segment
from models.flight import FlightSnapshot
from services.airports import AirportDirectory
from services.inventory.network import network_airports
from services.tickets.calendar import PRODID, booking_ics

OUT = datetime(2027, 1, 12, 9, 40, tzinfo=UTC)
BACK = datetime(2027, 1, 19, 18, 30, tzinfo=UTC)
CONFIRMED = datetime(2027, 1, 5, 14, 30, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def airports() -> AirportDirectory:
    return AirportDirectory(network_airports())


def _segment(flight_id: str, number: str, origin: str, destination: str, departs: datetime, hours: int,
             seats: list[str], leg: int, cabin: str = "economy") -> Segment:
    return Segment(flight=FlightSnapshot(flight_id=flight_id, flight_number=number, origin=origin,
                                         destination=destination, departs_at=departs,
                                         arrives_at=departs + timedelta(hours=hours), aircraft="789", cabin=cabin),
                   seats=seats, fare_per_passenger=41230, leg=leg)


def return_trip(names: tuple[str, str] = ("Ada Lovelace", "Charles Babbage"), *,
                status: BookingStatus = BookingStatus.CONFIRMED, confirmed_ms: int | None = None) -> Booking:
    passengers = [Passenger(full_name=name, birth_date=date(1990, 1, 1)) for name in names]
    segments = [_segment("f-out-1", "FO280", "LHR", "JFK", OUT, 8, ["14C", "14D"], Leg.OUTBOUND),
                _segment("f-back-2", "FO281", "JFK", "LHR", BACK, 7, ["3A", "3B"], Leg.RETURN, cabin="business")]
    booking: Booking = Booking.model_construct(
        reference="FLY4Q2", user_id=1, chat_id=1, status=status, segments=segments, passengers=passengers,
        email="ada@example.com", created_at=datetime(2027, 1, 5, 14, 10, tzinfo=UTC), updated_ms=0,
        hold_expires_ms=0, payment=PaymentState(),
        confirmed_ms=int(CONFIRMED.timestamp() * 1000) if confirmed_ms is None else confirmed_ms,
        price=PriceSnapshot(currency="GBP", fare_per_passenger=82460, passengers=2, total=164920))
    return booking


def _events(ics: bytes) -> tuple[Calendar, list[Component]]:
    calendar = Calendar.from_ical(ics)
    return calendar, [c for c in calendar.walk("VEVENT")]


def test_a_return_trip_of_two_parses_back_as_two_events_in_utc(airports: AirportDirectory) -> None:
    calendar, events = _events(booking_ics(return_trip(), airports))
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert len(events) == 2
    out, back = events
    assert out.decoded("DTSTART") == OUT
    assert out.decoded("DTSTART").utcoffset() == timedelta(0)
    assert out.decoded("DTEND") == OUT + timedelta(hours=8)
    assert back.decoded("DTSTART") == BACK
    assert out.decoded("DTSTAMP") == CONFIRMED
    assert str(out["SUMMARY"]) == "FO280 London → New York"
    assert str(back["SUMMARY"]) == "FO281 New York → London"
    assert str(out["LOCATION"]) == f"{airports.by_code['LHR'].name} (LHR)"
    assert str(back["LOCATION"]) == f"{airports.by_code['JFK'].name} (JFK)"
    description = str(out["DESCRIPTION"])
    assert "FLY4Q2" in description
    assert "Ada Lovelace, seat 14C" in description and "Charles Babbage, seat 14D" in description
    assert "Economy" in description
    assert "Ada Lovelace, seat 3A" in str(back["DESCRIPTION"]) and "Business" in str(back["DESCRIPTION"])


def test_uids_are_stable_per_booking_and_flight_and_distinct(airports: AirportDirectory) -> None:
    _calendar, events = _events(booking_ics(return_trip(), airports))
    uids = [str(e["UID"]) for e in events]
    assert uids == ["FLY4Q2-f-out-1@flyo", "FLY4Q2-f-back-2@flyo"]
    _again, events_again = _events(booking_ics(return_trip(("Someone Else", "Another One")), airports))
    assert [str(e["UID"]) for e in events_again] == uids  # a calendar updates the event, never duplicates it


def test_each_event_reminds_three_hours_before(airports: AirportDirectory) -> None:
    _calendar, events = _events(booking_ics(return_trip(), airports))
    for event in events:
        alarms = [c for c in event.walk("VALARM")]
        assert len(alarms) == 1
        assert str(alarms[0]["ACTION"]) == "DISPLAY"
        assert alarms[0].decoded("TRIGGER") == timedelta(hours=-3)
        assert str(event["SUMMARY"]) in str(alarms[0]["DESCRIPTION"])
    assert b"TRIGGER:-PT3H\r\n" in booking_ics(return_trip(), airports)


def test_the_same_booking_renders_the_same_bytes(airports: AirportDirectory) -> None:
    first = booking_ics(return_trip(), airports, bot_username="FlyOBot")
    assert first == booking_ics(return_trip(), airports, bot_username="FlyOBot")
    assert first.startswith(b"BEGIN:VCALENDAR\r\n") and first.endswith(b"END:VCALENDAR\r\n")


def test_without_a_confirmation_time_the_stamp_is_the_creation_time(airports: AirportDirectory) -> None:
    booking = return_trip()
    booking.confirmed_ms = None
    booking.created_at = datetime(2027, 1, 5, 14, 10)  # naive, as MongoDB returns it: UTC
    _calendar, events = _events(booking_ics(booking, airports))
    assert events[0].decoded("DTSTAMP") == datetime(2027, 1, 5, 14, 10, tzinfo=UTC)


def test_the_bot_link_is_added_only_for_a_real_username(airports: AirportDirectory) -> None:
    _calendar, events = _events(booking_ics(return_trip(), airports, bot_username="@FlyOBot"))
    assert str(events[0]["URL"]) == "https://t.me/FlyOBot"
    assert "https://t.me/FlyOBot" in str(events[0]["DESCRIPTION"])
    for bad in ("", "x", "evil.com/phish", "a" * 33, "bot\r\nATTACH:http://x"):
        _calendar, events = _events(booking_ics(return_trip(), airports, bot_username=bad))
        assert "URL" not in events[0] and "t.me" not in str(events[0]["DESCRIPTION"])


def test_a_cancelled_booking_has_no_calendar(airports: AirportDirectory) -> None:
    with pytest.raises(ValueError, match="cancelled"):
        booking_ics(return_trip(status=BookingStatus.CANCELLED), airports)


def test_an_unknown_airport_shows_its_code(airports: AirportDirectory) -> None:
    booking = return_trip()
    booking.segments[0].flight.destination = "XQZ"
    _calendar, events = _events(booking_ics(booking, airports))
    assert str(events[0]["SUMMARY"]) == "FO280 London → XQZ"


def test_a_lap_infant_is_listed_without_a_seat(airports: AirportDirectory) -> None:
    booking = return_trip()
    booking.passengers.append(Passenger(full_name="Ella Lovelace", birth_date=date(2026, 3, 1), on_lap=True))
    _calendar, events = _events(booking_ics(booking, airports))
    assert "Ella Lovelace (infant on a lap)" in str(events[0]["DESCRIPTION"])


HOSTILE = [  # (typed name, how the calendar's passenger line shows it: one line, control characters gone)
    ("Ada;Lovelace,\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\\n 😀 王芳",
     "Ada;Lovelace, END:VEVENT BEGIN:VEVENT UID:evil\\n 😀 王芳"),
    ("Łukasz\nZoë; \\ , ,", "Łukasz Zoë; \\ , ,"),
    ("👨\u200d👩\u200d👧 Family\u2028Name\x00\x1b[31m", "👨\u200d👩\u200d👧 Family Name [31m"),  # ZWJ emoji kept
    ("A" * 4096, "A" * 4096),
    ("😀" * 1500, "😀" * 1500),
]


@pytest.mark.parametrize(("name", "shown"), HOSTILE)
def test_a_hostile_passenger_name_is_escaped_and_the_file_still_parses(airports: AirportDirectory, name: str,
                                                                        shown: str) -> None:
    ics = booking_ics(return_trip((name, "Charles Babbage")), airports)
    _calendar, events = _events(ics)
    assert len(events) == 2  # no injected event
    assert [str(e["UID"]) for e in events] == ["FLY4Q2-f-out-1@flyo", "FLY4Q2-f-back-2@flyo"]
    description = str(events[0]["DESCRIPTION"])
    assert f"\nPassengers:\n{shown}, seat 14C\nCharles Babbage, seat 14D" in description
    for line in ics.split(b"\r\n"):
        assert len(line) <= 75  # folded per RFC 5545 §3.1 (octets), multi-byte characters never split
        line.decode("utf-8")
    bare = ics.replace(b"\r\n", b"")
    assert b"\r" not in bare and b"\n" not in bare  # only CRLF line ends: nothing typed starts a line of its own
    assert not any(line.startswith((b"UID:evil", b"BEGIN:VEVENT\\")) for line in ics.split(b"\r\n"))
