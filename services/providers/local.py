"""The local inventory as a provider: flights, fares and aircraft layouts seeded into MongoDB (services.flights
asks it after the live providers, or alone)."""

from __future__ import annotations

import asyncio
from datetime import date

from core.clock import Clock
from models.aircraft import AircraftType
from models.airport import Airport
from models.flight import Flight, route_key
from repos.flights import AircraftRepo, AirportRepo, FlightRepo
from services.airports import AirportDirectory
from services.providers.base import LOCAL_LABEL, Quote, SeatMap, generic_layout


class LocalProvider:
    """The local inventory: flights, fares and aircraft layouts seeded into MongoDB."""

    name = "local"
    label = LOCAL_LABEL

    def __init__(self, clock: Clock | None = None, flights: FlightRepo | None = None) -> None:
        self.clock = clock or Clock()
        self.flights = flights or FlightRepo()
        self.airport_repo = AirportRepo()
        self.aircraft_repo = AircraftRepo()
        self._fleet: dict[str, AircraftType] = {}
        self._fleet_loaded_ms: int | None = None
        self._fleet_lock = asyncio.Lock()

    async def search(self, origins: list[str], destinations: list[str], day: date,
                     passengers: int) -> list[Flight]:
        # One equality per route on the single-field `route_key` index (~2 ms each on nx-27017), merged here.
        keys = [route_key(o, d, day.isoformat()) for o in origins for d in destinations if o != d]
        found = await asyncio.gather(*(self.flights.on_route(k) for k in keys))
        local = (f for batch in found for f in batch if f.source == "local")
        return sorted(local, key=lambda f: f.departs_at)

    async def price(self, flight: Flight, cabin: str) -> Quote:
        """Local fares are what the inventory says now (the seed may have moved them since the search)."""
        current = await self.flights.get(flight.id) if flight.id else None
        fares = (current or flight).fares
        return Quote(per_passenger=fares[cabin], currency=(current or flight).currency)

    async def seat_map(self, flight: Flight, cabin: str) -> SeatMap | None:
        """The aircraft type's static layout; a live flight on a type FlyO doesn't fly gets a generic one."""
        aircraft = await self._aircraft_type(flight.aircraft)
        layout = aircraft.cabin(cabin) if aircraft else None
        if layout is None and flight.source != "local":
            layout = generic_layout(cabin)
        return SeatMap(layout) if layout else None

    async def _aircraft_type(self, code: str) -> AircraftType | None:
        """The fleet is read once (a few documents) and shared: a seat map costs no query per tap. An unknown
        code re-reads it at most once a minute, in case the seed added a type after start-up."""
        if code in self._fleet:
            return self._fleet[code]
        async with self._fleet_lock:  # 200 travellers opening seat maps at once make one query, not 200
            now = self.clock.now_ms()
            stale = self._fleet_loaded_ms is None or now - self._fleet_loaded_ms > 60_000
            if code not in self._fleet and stale:
                self._fleet = {a.code: a for a in await self.aircraft_repo.all()}
                self._fleet_loaded_ms = now
        return self._fleet.get(code)

    async def airports(self, keyword: str) -> list[Airport]:
        directory = AirportDirectory(await self.airport_repo.all())
        return directory.resolve(keyword).airports

    async def dates_with_flights(self, origins: list[str], destinations: list[str],
                                 days: list[date]) -> set[date]:
        pairs = [(o, d, day) for o in origins for d in destinations if o != d for day in days]

        async def has_flight(o: str, d: str, day: date) -> date | None:
            return day if await self.flights.any_on_route(route_key(o, d, day.isoformat())) else None

        return {day for day in await asyncio.gather(*(has_flight(*p) for p in pairs)) if day}

    async def last_date(self) -> date | None:
        return await self.flights.last_local_date()
