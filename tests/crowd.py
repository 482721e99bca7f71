"""Many CONFIRMED bookings on one flight, written as a paid booking leaves the database (booking CONFIRMED, its
seats booked, its confirmation message sent), for tests of what happens to a flight after it is sold: paying for
hundreds through the chat is what other tests do one at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from models import Booking, BookingStatus, Passenger, PaymentState, PriceSnapshot, SeatHold
from models.aircraft import AircraftType
from models.booking import Segment
from models.flight import Flight, FlightSnapshot
from models.ops import Notification, NotificationStatus
from models.seat import HoldStatus


async def confirmed_crowd(flight: Flight, count: int, *, cabin_only: str | None = None, first_chat: int = 700_000,
                          prefix: str = "C") -> list[Booking]:
    """`count` one-passenger CONFIRMED bookings on `flight` (chats first_chat…), seats in layout order."""
    aircraft = await AircraftType.find_one({"code": flight.aircraft})
    assert aircraft is not None
    seats = [(cabin.cabin, code) for cabin in aircraft.cabins for code in cabin.seat_codes()
             if cabin_only is None or cabin.cabin == cabin_only]
    assert len(seats) >= count, f"{flight.flight_number} seats {len(seats)}"
    bookings, holds, sent = [], [], []
    now = datetime.now(UTC)
    for i, (cabin, seat) in enumerate(seats[:count]):
        chat = first_chat + i
        snapshot = FlightSnapshot(flight_id=str(flight.id), flight_number=flight.flight_number, origin=flight.origin,
                                  destination=flight.destination, departs_at=flight.departs_at,
                                  arrives_at=flight.arrives_at, aircraft=flight.aircraft, cabin=cabin)
        fare = flight.fares[cabin]
        booking = Booking(
            reference=f"{prefix}{i:05d}", user_id=chat, chat_id=chat, status=BookingStatus.CONFIRMED,
            segments=[Segment(flight=snapshot, seats=[seat], fare_per_passenger=fare)],
            passengers=[Passenger(full_name=f"Traveller {i}", birth_date=date(1980, 1, 1))],
            email=f"t{i}@example.com", created_at=now, updated_ms=0, hold_expires_ms=0,
            departs_ms=int(flight.departs_at.replace(tzinfo=UTC).timestamp() * 1000), confirmed_ms=1,
            fulfilled_ms=1, payment=PaymentState(status="paid", amount_paid=fare),
            price=PriceSnapshot(currency=flight.currency, fare_per_passenger=fare, passengers=1, total=fare))
        bookings.append(booking)
    await Booking.insert_many(bookings)
    stored = await Booking.find({"reference": {"$regex": f"^{prefix}[0-9]{{5}}$"}}).to_list()
    for booking in stored:
        seat = booking.segments[0].seats[0]
        holds.append(SeatHold(flight_id=str(flight.id), seat=seat, seat_key=f"{flight.id}:{seat}",
                              cabin=booking.segments[0].flight.cabin, status=HoldStatus.BOOKED,
                              holder=f"booking:{booking.id}", token="crowd", expires_ms=2**52,
                              booking_id=str(booking.id)))
        sent.append(Notification(key=f"confirm-chat:{booking.id}", channel="chat", payload={},
                                 status=NotificationStatus.SENT, created_at=now, booking_reference=booking.reference))
    await SeatHold.insert_many(holds)
    await Notification.insert_many(sent)
    return stored


async def confirmed_itinerary(flights: list[Flight], chat_id: int, reference: str, cabin: str = "economy",
                              seat: str = "30A") -> Booking:
    """One passenger's CONFIRMED connection over `flights` (one way), seat `seat` on each, written as a paid
    booking leaves the database."""
    now = datetime.now(UTC)
    segments = [Segment(flight=FlightSnapshot(
        flight_id=str(f.id), flight_number=f.flight_number, origin=f.origin, destination=f.destination,
        departs_at=f.departs_at, arrives_at=f.arrives_at, aircraft=f.aircraft, cabin=cabin),
        seats=[seat], fare_per_passenger=f.fares[cabin]) for f in flights]
    total = sum(s.fare_per_passenger for s in segments)
    booking = Booking(
        reference=reference, user_id=chat_id, chat_id=chat_id, status=BookingStatus.CONFIRMED, segments=segments,
        passengers=[Passenger(full_name="Ada Lovelace", birth_date=date(1980, 1, 1))], email="ada@example.com",
        created_at=now, updated_ms=0, hold_expires_ms=0,
        departs_ms=int(flights[0].departs_at.replace(tzinfo=UTC).timestamp() * 1000), confirmed_ms=1,
        fulfilled_ms=1, payment=PaymentState(status="paid", amount_paid=total),
        price=PriceSnapshot(currency=flights[0].currency, fare_per_passenger=total, passengers=1, total=total))
    await booking.insert()
    await SeatHold.insert_many([SeatHold(
        flight_id=str(f.id), seat=seat, seat_key=f"{f.id}:{seat}", cabin=cabin, status=HoldStatus.BOOKED,
        holder=f"booking:{booking.id}", token="trip", expires_ms=2**52, booking_id=str(booking.id)) for f in flights])
    await Notification(key=f"confirm-chat:{booking.id}", channel="chat", payload={}, status=NotificationStatus.SENT,
                       created_at=now, booking_reference=reference).insert()
    return booking
