"""What the e-ticket pages say (services.tickets.compose), from a booking alone: one page per seated passenger per
flight, infants on an adult's page, the BCBP string of each page, zones and carriers read right, and no page for
a booking without ticket numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.booking import Booking, Passenger, TicketIssue
from services.airports import AirportDirectory
from services.inventory.network import network_airports
from services.reference import ReferenceData
from services.tickets import bcbp
from services.tickets.compose import (
    NotTicketable,
    carrier_and_number,
    lap_infants_by_adult,
    page_count,
    ticket_pages,
    zone_label,
)
from tests.services.test_ticket_calendar import return_trip


@pytest.fixture(scope="module")
def reference() -> ReferenceData:
    return ReferenceData(airports=AirportDirectory(network_airports()))


def _ticketed(booking: Booking) -> Booking:
    numbers = [f"000{n:010d}" for n in range(1, len(booking.passengers) + 1)]
    issue = TicketIssue(numbers=numbers, issued_ms=booking.confirmed_ms or 0)
    ticketed: Booking = booking.model_copy(update={"tickets": issue})
    return ticketed


def test_flight_numbers_split_into_carrier_number_and_suffix() -> None:
    assert carrier_and_number("FO280") == ("FO", 280, "")
    assert carrier_and_number("BA 117A") == ("BA", 117, "A")
    assert carrier_and_number("U21234") == ("U2", 1234, "")  # a digit in the IATA designator
    assert carrier_and_number("9W7") == ("9W", 7, "")
    assert carrier_and_number("EZY8123") == ("EZY", 8123, "")  # a three-letter ICAO designator
    for bad in ("", "FO", "280", "FO28000", "F-280", "FO280AB"):
        with pytest.raises(ValueError):
            carrier_and_number(bad)


def test_zones_print_as_airlines_print_them() -> None:
    winter, summer = datetime(2027, 1, 12, 9, tzinfo=UTC), datetime(2027, 7, 12, 9, tzinfo=UTC)
    assert zone_label(winter, "Europe/London") == "GMT"
    assert zone_label(summer, "Europe/London") == "BST"
    assert zone_label(winter, "America/New_York") == "EST"
    assert zone_label(winter, "Asia/Dubai") == "UTC+4"  # tzdata has no letters for it: the offset
    assert zone_label(winter, "Asia/Kathmandu") == "UTC+5:45"
    assert zone_label(winter, "America/Sao_Paulo") == "UTC-3"
    assert zone_label(winter, "UTC") == "UTC"


def test_a_return_trip_for_two_has_four_pages_each_with_its_own_barcode(reference: ReferenceData) -> None:
    booking = _ticketed(return_trip())
    pages = ticket_pages(booking, reference)
    assert len(pages) == page_count(booking) == 4
    assert [(p.flight_number, p.passenger_name, p.seat) for p in pages] == [
        ("FO280", "Ada Lovelace", "14C"), ("FO280", "Charles Babbage", "14D"),
        ("FO281", "Ada Lovelace", "3A"), ("FO281", "Charles Babbage", "3B")]
    assert [p.ticket_number for p in pages] == ["0000000000001", "0000000000002"] * 2  # one ticket, two coupons
    legs = [bcbp.decode(p.bcbp) for p in pages]
    assert [leg.name for leg in legs] == ["LOVELACE/ADA", "BABBAGE/CHARLES"] * 2
    assert [(leg.origin, leg.destination, leg.compartment, leg.seat) for leg in legs] == [
        ("LHR", "JFK", "Y", "14C"), ("LHR", "JFK", "Y", "14D"), ("JFK", "LHR", "J", "3A"), ("JFK", "LHR", "J", "3B")]
    assert {leg.julian_date for leg in legs[:2]} == {12} and {leg.julian_date for leg in legs[2:]} == {19}
    assert pages[0].departure == "Tue 12 Jan 2027, 09:40 GMT"
    assert pages[0].arrival == "Tue 12 Jan 2027, 12:40 EST"  # 8 h later in UTC, New York is UTC-5
    assert pages[0].issued_on == "Tue 05 Jan 2027"
    assert pages[0].fare == "£412.30"
    assert pages[0].carrier == "FlyO"


def test_the_julian_date_is_the_local_departure_day(reference: ReferenceData) -> None:
    """23:30 UTC on 31 Dec is already 1 Jan in Dubai: day 001, not 365."""
    booking = _ticketed(return_trip())
    late = booking.segments[0].model_copy(update={"flight": booking.segments[0].flight.model_copy(update={
        "origin": "DXB", "departs_at": datetime(2026, 12, 31, 23, 30, tzinfo=UTC)})})
    pages = ticket_pages(booking.model_copy(update={"segments": [late]}), reference)
    assert bcbp.decode(pages[0].bcbp).julian_date == 1
    assert pages[0].departure.endswith("UTC+4") and "01 Jan 2027" in pages[0].departure


def test_a_lap_infant_rides_on_an_adults_page_with_its_own_ticket_number(reference: ReferenceData) -> None:
    booking = return_trip()
    child = Passenger(full_name="Tom Lovelace", birth_date=date(2016, 5, 5))  # 10: cannot hold an infant
    baby = Passenger(full_name="Ella Lovelace", birth_date=date(2026, 6, 1), on_lap=True)
    adult = booking.passengers[0]
    family = booking.model_copy(update={"passengers": [child, adult, baby]})
    assert lap_infants_by_adult(family) == {1: 2}
    pages = ticket_pages(_ticketed(family), reference)
    assert len(pages) == 4  # two seated passengers × two flights; the baby has no page of its own
    ada = [p for p in pages if p.passenger_name == "Ada Lovelace"]
    assert all(p.infant_line == "+ infant on lap: Ella Lovelace · ticket 0000000000003" for p in ada)
    assert all(p.infant_line is None for p in pages if p.passenger_name == "Tom Lovelace")


def test_no_pages_without_ticket_numbers(reference: ReferenceData) -> None:
    with pytest.raises(NotTicketable):
        ticket_pages(return_trip(), reference)
    short = return_trip().model_copy(update={"tickets": TicketIssue(numbers=["0000000000001"], issued_ms=0)})
    with pytest.raises(NotTicketable):
        ticket_pages(short, reference)  # two passengers, one number: never print a wrong one


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.text(min_size=1, max_size=60), min_size=1, max_size=4))
def test_any_names_give_a_valid_60_character_barcode_per_page(names: list[str]) -> None:
    """Whatever travellers type — emoji, control characters, RTL, 60 letters — every page's BCBP string decodes
    back to itself, and two passengers never share a barcode on one flight."""
    reference = ReferenceData(airports=AirportDirectory(network_airports()))
    booking = return_trip()
    people = [Passenger(full_name=name, birth_date=date(1990, 1, 1)) for name in names]
    seats = [f"{row}A" for row in range(1, len(people) + 1)]
    segments = [segment.model_copy(update={"seats": seats}) for segment in booking.segments]
    booking = _ticketed(booking.model_copy(update={"passengers": people, "segments": segments}))
    pages = ticket_pages(booking, reference)
    assert len(pages) == 2 * len(people)
    for page in pages:
        assert len(page.bcbp) == 60 and bcbp.encode(bcbp.decode(page.bcbp)) == page.bcbp
    for flight in ("FO280", "FO281"):
        strings = [p.bcbp for p in pages if p.flight_number == flight]
        assert len(set(strings)) == len(strings)
