"""Invariants that must hold after every payment test: checked on the database, not on what was said."""

from __future__ import annotations

from collections import Counter

from models import Booking, BookingStatus, SeatHold
from models.ops import Notification


async def assert_seat_and_money_invariants() -> None:
    """No seat of a flight in two CONFIRMED bookings; every seat of every flight of a CONFIRMED booking is booked
    by it; exactly one confirmation chat message queued per CONFIRMED booking."""
    confirmed = await Booking.find(Booking.status == BookingStatus.CONFIRMED).to_list()
    owners: dict[tuple[str, str], str] = {}
    for booking in confirmed:
        for seat, flight_id in ((seat, s.flight.flight_id) for s in booking.segments for seat in s.seats):
            key = (flight_id, seat)
            assert key not in owners, f"seat {seat} of {key[0]} is in CONFIRMED {owners[key]} and {booking.reference}"
            owners[key] = booking.reference
            hold = await SeatHold.find_one(SeatHold.seat_key == f"{key[0]}:{seat}")
            assert hold is not None and hold.status == "booked" and hold.booking_id == str(booking.id), (
                f"seat {seat} of CONFIRMED {booking.reference} is not booked by it: {hold!r}")
        confirmations = await Notification.find(Notification.key == f"confirm-chat:{booking.id}").count()
        assert confirmations == 1, f"{booking.reference}: {confirmations} confirmation messages queued"
    booked = await SeatHold.find(SeatHold.status == "booked").to_list()
    by_booking = Counter(h.booking_id for h in booked)
    live = {str(b.id) for b in confirmed}
    for booking_id in by_booking:
        assert booking_id in live, f"seats booked for a booking that is not CONFIRMED: {booking_id}"
