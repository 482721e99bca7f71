"""An itinerary's booking at the service level: every flight's seats move to it, or none do."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.clock import Clock
from core.database import Database
from core.errors import LimitReached, SeatUnavailable
from models import Booking, BookingStatus, SeatHold
from models.booking import Passenger
from models.flight import Flight
from services.bookings import BookingRules, BookingService, NewBooking, NewSegment
from services.seats import SeatService, booking_holder, chat_holder

CHAT = 16001


async def _return_flights(clock: Clock) -> tuple[Flight, Flight]:
    day = clock.now().date() + timedelta(days=9)
    out = await Flight.find_one(Flight.origin == "LHR", Flight.destination == "JFK",
                                Flight.departure_date == day.isoformat())
    back = await Flight.find_one(Flight.origin == "JFK", Flight.destination == "LHR",
                                 Flight.departure_date == (day + timedelta(days=4)).isoformat())
    assert out is not None and back is not None
    return out, back


def _trip(out: Flight, back: Flight, seats_out: list[str], seats_back: list[str], key: str = "1") -> NewBooking:
    people = [Passenger(full_name=f"Traveller {i}", birth_date=date(1980, 1, 1)) for i in range(len(seats_out))]
    return NewBooking(user_id=CHAT, chat_id=CHAT, passengers=people, email="t@example.com",
                      draft_key=f"{CHAT}:{key}", currency=out.currency, segments=[
                          NewSegment(out, "economy", seats_out, out.fares["economy"]),
                          NewSegment(back, "economy", seats_back, 12_300, leg=1)])


async def test_a_return_trips_holds_all_move_to_the_booking(inventory_db: Database) -> None:
    clock = Clock()
    seats = SeatService(clock, hold_minutes=15)
    bookings = BookingService(clock, seats, BookingRules())
    out, back = await _return_flights(clock)
    for flight, seat in ((out, "30A"), (out, "30B"), (back, "31A"), (back, "31B")):
        await seats.hold(str(flight.id), seat, chat_holder(CHAT), "economy")
    booking = await bookings.create(_trip(out, back, ["30A", "30B"], ["31A", "31B"]), chat_holder(CHAT))
    held = await SeatHold.find(SeatHold.holder == booking_holder(str(booking.id))).to_list()
    assert sorted((h.flight_id == str(back.id), h.seat) for h in held) == [
        (False, "30A"), (False, "30B"), (True, "31A"), (True, "31B")]
    assert booking.price.fare_per_passenger == out.fares["economy"] + 12_300
    assert booking.price.currency == out.currency  # the return's fare was given in the outbound's currency
    assert booking.departs_ms < (booking.return_departs_ms or 0)


async def test_a_return_seat_lost_before_the_booking_gives_every_flight_back_to_the_traveller(
        inventory_db: Database) -> None:
    """The outbound's holds moved, then the return's fails: the outbound's come back to the chat (fresh hold
    period), the booking steps back with its draft key freed, and a retry after re-picking works."""
    clock = Clock()
    seats = SeatService(clock, hold_minutes=15)
    bookings = BookingService(clock, seats, BookingRules())
    out, back = await _return_flights(clock)
    await seats.hold(str(out.id), "30A", chat_holder(CHAT), "economy")
    await seats.hold(str(back.id), "31A", chat_holder(CHAT), "economy")
    clock.advance(timedelta(minutes=16))  # the return's hold lapsed …
    await seats.hold(str(out.id), "30A", chat_holder(CHAT), "economy")  # (the outbound was re-held at review)
    await seats.hold(str(back.id), "31A", "chat:999", "economy")  # … and another traveller took the seat
    with pytest.raises(SeatUnavailable) as lost:
        await bookings.create(_trip(out, back, ["30A"], ["31A"]), chat_holder(CHAT))
    assert (lost.value.seat, lost.value.flight_id) == ("31A", str(back.id))
    mine = await SeatHold.find(SeatHold.holder == chat_holder(CHAT)).to_list()
    assert [(h.flight_id, h.seat, h.booking_id) for h in mine] == [(str(out.id), "30A", None)]
    assert mine[0].expires_ms > clock.now_ms()
    [stepped_back] = await Booking.find(Booking.user_id == CHAT).to_list()
    assert stepped_back.status == BookingStatus.CANCELLED and stepped_back.draft_key is None
    await seats.hold(str(back.id), "31B", chat_holder(CHAT), "economy")
    booking = await bookings.create(_trip(out, back, ["30A"], ["31B"]), chat_holder(CHAT))
    assert [s.seats for s in booking.segments] == [["30A"], ["31B"]]


async def test_the_seat_limit_counts_each_flight_of_every_unpaid_itinerary(inventory_db: Database) -> None:
    clock = Clock()
    seats = SeatService(clock, hold_minutes=15)
    bookings = BookingService(clock, seats, BookingRules(max_seats_per_flight=3, max_pending_per_user=5))
    out, back = await _return_flights(clock)
    for flight, seat in ((out, "30A"), (out, "30B"), (back, "31A"), (back, "31B")):
        await seats.hold(str(flight.id), seat, chat_holder(CHAT), "economy")
    await bookings.create(_trip(out, back, ["30A", "30B"], ["31A", "31B"]), chat_holder(CHAT))
    await bookings.check_seat_limit(CHAT, str(back.id), 1)  # 2 + 1 ≤ 3
    with pytest.raises(LimitReached):
        await bookings.check_seat_limit(CHAT, str(back.id), 2)  # the return flight's seats count too
