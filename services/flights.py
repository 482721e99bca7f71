"""Flight search over providers. The local inventory (MongoDB) always answers; live providers go first.

Results are `Flight` documents whatever their source (live offers are cached as Flight documents with
`source="amadeus"`), so seats, holds, bookings and rendering never care where a flight came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from beanie import PydanticObjectId

from models.flight import Flight
from services.seats import SeatService

LOCAL_LABEL = "FlyO inventory"


@dataclass
class FlightOption:
    """A flight as the traveller compares it: fares and seats left per cabin."""

    flight: Flight
    seats_left: dict[str, int]

    def fare(self, cabin: str) -> int | None:
        return self.flight.fares.get(cabin)


@dataclass
class SearchResult:
    options: list[FlightOption]
    source_label: str
    notes: list[str] = field(default_factory=list)


class FlightProvider(Protocol):
    name: str
    label: str

    async def search(self, origins: list[str], destinations: list[str], day: date, passengers: int) -> list[Flight]:
        ...


class LocalProvider:
    name = "local"
    label = LOCAL_LABEL

    async def search(self, origins: list[str], destinations: list[str], day: date, passengers: int) -> list[Flight]:
        query = {
            "origin": {"$in": origins}, "destination": {"$in": destinations},
            "departure_date": day.isoformat(), "source": "local",
        }
        return await Flight.find(query).sort("departs_at").to_list()

    async def dates_with_flights(self, origins: list[str], destinations: list[str], days: list[date]) -> set[date]:
        query = {"origin": {"$in": origins}, "destination": {"$in": destinations},
                 "departure_date": {"$in": [d.isoformat() for d in days]}, "source": "local"}
        rows = await Flight.get_pymongo_collection().distinct("departure_date", query)
        return {date.fromisoformat(r) for r in rows}

    async def last_date(self) -> date | None:
        doc = await Flight.find({"source": "local"}).sort("-departure_date").limit(1).first_or_none()
        return date.fromisoformat(doc.departure_date) if doc else None


class FlightSearch:
    """Asks the live providers first, then the local inventory; labels where results came from."""

    def __init__(self, seats: SeatService, live: list[FlightProvider] | None = None) -> None:
        self.seats = seats
        self.local = LocalProvider()
        self.live = live or []

    async def search(self, origins: list[str], destinations: list[str], day: date, passengers: int) -> SearchResult:
        notes: list[str] = []
        flights: list[Flight] = []
        label = LOCAL_LABEL
        for provider in self.live:
            try:
                flights = await provider.search(origins, destinations, day, passengers)
            except Exception as exc:  # the provider adapter already translated it; any failure → fallback
                notes.append(f"{provider.label} unavailable ({exc}); showing {LOCAL_LABEL}.")
                flights = []
            if flights:
                label = provider.label
                break
        if not flights:
            flights = await self.local.search(origins, destinations, day, passengers)
        options = await self.with_availability(flights)
        bookable = [o for o in options if max(o.seats_left.values(), default=0) >= passengers]
        return SearchResult(bookable, label, notes)

    async def with_availability(self, flights: list[Flight]) -> list[FlightOption]:
        counts = await self.seats.taken_counts(str(f.id) for f in flights)
        options = []
        for flight in flights:
            taken = counts.get(str(flight.id), {})
            left = {cabin: max(0, cap - taken.get(cabin, 0)) for cabin, cap in flight.capacity.items()}
            options.append(FlightOption(flight, left))
        return options

    async def nearest_dates(self, origins: list[str], destinations: list[str], day: date, today: date,
                            last: date, span: int = 3) -> list[date]:
        around = [day + timedelta(days=d) for d in range(-span, span + 1) if d]
        candidates = [d for d in around if today <= d <= last]
        found = await self.local.dates_with_flights(origins, destinations, candidates)
        return sorted(found, key=lambda d: (abs((d - day).days), d))

    async def get(self, flight_id: str) -> Flight | None:
        try:
            return await Flight.get(PydanticObjectId(flight_id))
        except Exception:  # malformed id from an old or forged button
            return None
