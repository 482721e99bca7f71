"""Scheduled flights (local inventory and cached live offers) and the snapshot a booking keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import BaseModel, model_validator
from pymongo import ASCENDING, IndexModel


def route_key(origin: str, destination: str, departure_date: str) -> str:
    """One indexed string per route and day: nx-27017 answers single-field equality from its index
    in ~2 ms, while a compound-index query or `$in` scans the collection (50–1000 ms at 16k flights)."""
    return f"{origin}-{destination}-{departure_date}"


class Flight(Document):
    """One departure. Times are UTC; `departure_date` is the origin's local date, the key searches use."""

    flight_number: str
    origin: str
    destination: str
    departure_date: str  # YYYY-MM-DD in the origin airport's time zone
    departs_at: datetime  # UTC
    arrives_at: datetime  # UTC
    aircraft: str  # AircraftType.code
    currency: str  # ISO 4217
    fares: dict[str, int]  # cabin -> fare per passenger in minor units
    capacity: dict[str, int]  # cabin -> seats
    source: str = "local"  # "local" | "amadeus"
    external_id: str = ""  # provider's offer id for live offers
    offer: dict[str, Any] | None = None  # the provider's raw offer, needed to price it again
    refundable: bool | None = None
    checked_bags: int | None = None
    route_key: str = ""  # origin-destination-date, filled in automatically; the search key

    class Settings:
        name = "flights"
        indexes = [
            IndexModel([("route_key", ASCENDING)]),
            IndexModel([("flight_number", ASCENDING), ("departure_date", ASCENDING)], unique=True),
            IndexModel([("departure_date", ASCENDING)]),
        ]

    @model_validator(mode="after")
    def _fill_route_key(self) -> Flight:
        if not self.route_key:
            self.route_key = route_key(self.origin, self.destination, self.departure_date)
        return self

    @property
    def duration_minutes(self) -> int:
        return int((self.arrives_at - self.departs_at).total_seconds() // 60)


class FlightSnapshot(BaseModel):
    """What a booking remembers of its flight, so later schedule or fare changes never rewrite it."""

    flight_id: str
    flight_number: str
    origin: str
    destination: str
    departs_at: datetime
    arrives_at: datetime
    aircraft: str
    cabin: str
    source: str = "local"
    # Live fares: the priced offer the traveller booked, ordered with the airline after payment (a later search
    # replaces the flight's own copy; bookings made before this field have none and are priced again).
    offer: dict[str, Any] | None = None
