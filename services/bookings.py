"""Booking rules: creation from a finished draft and the only allowed status changes.

Every status change is one conditional update (`status == expected` → new), so repeats and
races are harmless: the second caller matches nothing and is told the current status.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from models.booking import Booking, BookingEvent, BookingStatus, Passenger, PriceSnapshot
from models.collections import collection
from models.flight import Flight, FlightSnapshot
from services.clock import Clock, to_ms
from services.errors import InvalidTransition, NotFound, SeatUnavailable
from services.seats import SeatService

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed safely
# PENDING → CONFIRMED (paid) or CANCELLED; CONFIRMED → CANCELLED only through a cancellation with refund.
ALLOWED = {
    BookingStatus.PENDING: {BookingStatus.CONFIRMED, BookingStatus.CANCELLED},
    BookingStatus.CONFIRMED: {BookingStatus.CANCELLED},
}


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class NewBooking:
    user_id: int
    chat_id: int
    flight: Flight
    cabin: str
    seats: list[str]
    passengers: list[Passenger]
    email: str
    fare_per_passenger: int


class BookingService:
    def __init__(self, clock: Clock, seats: SeatService, payment_window_minutes: int) -> None:
        self.clock = clock
        self.seats = seats
        self.payment_window_ms = payment_window_minutes * 60_000

    async def create(self, new: NewBooking, holder: str) -> Booking:
        """PENDING booking with a unique reference; the draft's seat holds move to it until the deadline."""
        now = self.clock.now()
        deadline_ms = self.clock.now_ms() + self.payment_window_ms
        flight = new.flight
        snapshot = FlightSnapshot(
            flight_id=str(flight.id), flight_number=flight.flight_number, origin=flight.origin,
            destination=flight.destination, departs_at=flight.departs_at, arrives_at=flight.arrives_at,
            aircraft=flight.aircraft, cabin=new.cabin, source=flight.source,
        )
        count = len(new.passengers)
        price = PriceSnapshot(currency=flight.currency, fare_per_passenger=new.fare_per_passenger,
                              passengers=count, total=new.fare_per_passenger * count)
        booking_id = PydanticObjectId()
        if not await self.seats.transfer(str(flight.id), new.seats, holder, str(booking_id), deadline_ms):
            lost = await self._first_lost_seat(str(flight.id), new.seats, holder)
            raise SeatUnavailable(lost)
        for _ in range(20):
            booking = Booking(
                id=booking_id, reference=new_reference(), user_id=new.user_id, chat_id=new.chat_id,
                flight=snapshot, seats=list(new.seats), passengers=new.passengers, email=new.email,
                price=price, created_at=now, updated_ms=self.clock.now_ms(), hold_expires_ms=deadline_ms,
                departs_ms=to_ms(flight.departs_at),
            )
            try:
                await booking.insert()
            except DuplicateKeyError:
                continue  # reference collision (1 in ~10^9): draw again
            await self.record(booking, "created", f"{count} passenger(s), seats {', '.join(new.seats)}")
            log.info("booking created", extra={"booking": booking.reference})
            return booking
        raise RuntimeError("could not allocate a unique booking reference")

    async def _first_lost_seat(self, flight_id: str, seats: list[str], holder: str) -> str:
        state = await self.seats.taken(flight_id, holder)
        return next((s for s in seats if state.get(s) != "mine"), seats[0])

    async def get(self, booking_id: str) -> Booking | None:
        return await Booking.get(PydanticObjectId(booking_id))

    async def by_reference(self, reference: str) -> Booking:
        booking = await Booking.find_one(Booking.reference == reference.strip().upper())
        if booking is None:
            raise NotFound(f"There is no booking {reference.strip().upper()}.")
        return booking

    async def for_user(self, user_id: int, limit: int = 10) -> list[Booking]:
        return await Booking.find(Booking.user_id == user_id).sort("-created_at").limit(limit).to_list()

    async def transition(self, booking: Booking, to: BookingStatus, *, extra: dict[str, Any] | None = None,
                         actor: str = "system", detail: str = "", expected: BookingStatus | None = None) -> Booking:
        """`expected` (default PENDING) → `to` as one conditional update; else InvalidTransition."""
        expected = expected or BookingStatus.PENDING
        if to not in ALLOWED.get(expected, set()):
            raise InvalidTransition(booking.reference, booking.status.value, to.value)
        fields: dict[str, Any] = {"status": to.value, "updated_ms": self.clock.now_ms(), **(extra or {})}
        # update_one + read rather than find_one_and_update: the latter mis-filters on nx-27017 (README).
        result = await collection(Booking).update_one({"_id": booking.id, "status": expected.value}, {"$set": fields})
        current = await Booking.get(booking.id)
        if result.matched_count != 1 or current is None:
            raise InvalidTransition(booking.reference, current.status.value if current else "gone", to.value)
        updated: Booking = current
        await self.record(updated, to.value.lower(), detail, actor)
        log.info("booking %s", to.value.lower(), extra={"booking": updated.reference})
        return updated

    async def cancel(self, booking: Booking, reason: str, actor: str = "system") -> Booking:
        """Cancel from the booking's current status (PENDING or CONFIRMED) and free its seats."""
        cancelled = await self.transition(booking, BookingStatus.CANCELLED, extra={"cancel_reason": reason},
                                          actor=actor, detail=reason, expected=booking.status)
        await self.seats.release_booking(str(cancelled.id))
        return cancelled

    async def record(self, booking: Booking, kind: str, detail: str = "", actor: str = "system") -> None:
        await BookingEvent(booking_id=str(booking.id), reference=booking.reference, at=self.clock.now(),
                           kind=kind, detail=detail, actor=actor).insert()

    async def history(self, booking: Booking) -> list[BookingEvent]:
        return await BookingEvent.find(BookingEvent.booking_id == str(booking.id)).sort("at").to_list()
