"""The infant rules (services.infants) and the money invariant they must keep: what Stripe is asked to charge,
line by line, is exactly the booking's total, whoever sits on a lap and whatever the percentage."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from models.booking import Booking, Passenger, PaymentState, PriceSnapshot, Segment
from models.flight import FlightSnapshot
from services.infants import booking_total, infant_fare, is_adult, is_infant, lap_holders
from services.payments import checkout_lines


def test_infant_means_under_2_on_the_last_flight_and_adult_16_on_the_first() -> None:
    born = date(2024, 12, 20)
    assert is_infant(born, date(2026, 12, 19)) and not is_infant(born, date(2026, 12, 20))
    assert is_adult(date(2010, 12, 15), date(2026, 12, 15)) and not is_adult(date(2010, 12, 16), date(2026, 12, 15))
    assert is_infant(date(2024, 2, 29), date(2026, 2, 28)) and not is_infant(date(2024, 2, 29), date(2026, 3, 1))


def test_infant_fare_rounds_half_up_to_a_minor_unit() -> None:
    assert [infant_fare(f, 10) for f in (50900, 12345, 5, 4, 0)] == [5090, 1235, 1, 0, 0]
    assert infant_fare(50900, 0) == 0 and infant_fare(50900, 100) == 50900


def test_lap_holders_are_adults_not_on_a_lap_or_not_dated_yet() -> None:
    """What the passenger questions count (handlers.laps): free laps = holders − infants already on a lap."""
    day = date(2026, 12, 15)
    adult, child, baby = date(1980, 1, 1), date(2016, 1, 1), date(2026, 1, 1)
    assert lap_holders([adult, baby], [False, True], day) - 1 == 0
    assert lap_holders([adult, adult, baby], [False, False, True], day) - 1 == 1
    assert lap_holders([child, baby], [False, False], day) == 0
    assert lap_holders([None, baby], [False, False], day) == 1  # not dated yet: may be the adult who holds the baby
    assert lap_holders([adult], [True], day) == 0  # (a date of birth changed later: on a lap holds no one)


def _booking(passengers: list[Passenger], fares: list[int], percent: int) -> Booking:
    seated = sum(1 for p in passengers if not p.on_lap)
    at = datetime(2026, 12, 15, 9, tzinfo=UTC)
    segments = [Segment(flight=FlightSnapshot(flight_id=f"f{i}", flight_number=f"FO{i}", origin="LHR",
                                              destination="JFK", departs_at=at, arrives_at=at, aircraft="789",
                                              cabin="economy"),
                        seats=[f"{10 + n}A" for n in range(seated)], fare_per_passenger=fare,
                        infant_fare=infant_fare(fare, percent))
                for i, fare in enumerate(fares)]
    total = booking_total(segments, passengers)
    booking: Booking = Booking.model_construct(
        reference="ABC234", user_id=1, chat_id=1, segments=segments, passengers=passengers,
                   email="a@example.com", created_at=at, updated_ms=0, hold_expires_ms=0, payment=PaymentState(),
                   price=PriceSnapshot(currency="GBP", fare_per_passenger=sum(fares), passengers=len(passengers),
                                       total=total, infants=sum(1 for p in passengers if p.on_lap)))
    return booking


@given(laps=st.lists(st.booleans(), min_size=1, max_size=9), fares=st.lists(st.integers(1, 2_000_000), min_size=1,
                                                                             max_size=4),
       percent=st.integers(0, 100))
def test_stripe_lines_add_up_to_the_total_and_seats_map_to_seated_passengers(laps: list[bool], fares: list[int],
                                                                              percent: int) -> None:
    passengers = [Passenger(full_name=f"P{i} Doe", birth_date=date(1990, 1, 1), on_lap=lap)
                  for i, lap in enumerate(laps)]
    booking = _booking(passengers, fares, percent)
    lines = checkout_lines(booking)
    assert sum(line.amount for line in lines) == booking.price.total
    assert all(line.amount > 0 for line in lines)  # a free lap is no line item (Stripe would show £0.00)
    seats = [booking.seat_of(booking.segments[0], i) for i in range(len(passengers))]
    assert [s is None for s in seats] == laps  # a lap infant has no seat; everyone else their own
    assert len({s for s in seats if s}) == len(booking.segments[0].seats)
