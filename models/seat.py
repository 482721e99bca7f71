"""One document per taken seat: the unique (flight, seat) index is what makes a hold atomic."""

from __future__ import annotations

from enum import StrEnum

from beanie import Document
from pymongo import ASCENDING, IndexModel


class HoldStatus(StrEnum):
    HELD = "held"  # by a traveller's draft until `expires_ms`, or by an unpaid booking
    BOOKED = "booked"  # paid: never expires


class SeatHold(Document):
    """A seat held by a traveller's draft (until `expires_ms`) or booked by a booking.

    A seat with no document is free. An expired hold is free too: the hold query treats
    `expires_ms < now` as free, so correctness never waits for the sweeper.
    """

    flight_id: str
    seat: str
    seat_key: str  # "<flight_id>:<seat>", unique: single-field indexes are what nx-27017 uses for lookups
    cabin: str = ""
    status: HoldStatus
    holder: str  # conversation key ("chat:<id>") or "booking:<id>"
    token: str  # random per successful hold; proves which attempt won
    expires_ms: int  # epoch ms; for "booked" a far-future value
    booking_id: str | None = None

    class Settings:
        name = "seat_holds"
        indexes = [
            IndexModel([("seat_key", ASCENDING)], unique=True),
            IndexModel([("flight_id", ASCENDING)]),
            IndexModel([("holder", ASCENDING)]),
            IndexModel([("expires_ms", ASCENDING)]),
        ]


BOOKED_FOREVER_MS = 2**53  # "never expires" for booked seats, still comparable as an integer


def seat_key(flight_id: str, seat: str) -> str:
    return f"{flight_id}:{seat}"
