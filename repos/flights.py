"""Flights (`flights`: the local inventory and cached live offers), airports and aircraft types.

Searches go through the single-field `route_key` index: nx-27017 answers an equality on it in ~2 ms, while a
compound-index query or `$in` scans the collection (0.5–1 s on 16k flights; README, Database).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from models.aircraft import AircraftType
from models.airport import Airport
from models.flight import Flight
from repos.base import collection, object_id


def _utc(moment: Any) -> datetime | None:
    if not isinstance(moment, datetime):
        return None  # e.g. a string left by a `$set` of a datetime on nx-27017
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class FlightRepo:
    async def on_route(self, key: str) -> list[Flight]:
        """Every flight of one route and day (`route_key`, see models.flight.route_key)."""
        return await Flight.find({"route_key": key}).to_list()

    async def any_on_route(self, key: str) -> bool:
        return await collection(Flight).find_one({"route_key": key}, {"_id": 1}) is not None

    async def get(self, flight_id: object) -> Flight | None:
        """The flight, or None for an unknown or malformed id (ids come from buttons too)."""
        found = object_id(flight_id)
        return await Flight.get(found) if found is not None else None

    async def numbered(self, flight_number: str, departure_date: str, *, local_only: bool = False) -> Flight | None:
        """One flight by its name ("FO280" on "2026-12-03", the origin's local date)."""
        query: dict[str, Any] = {"flight_number": flight_number, "departure_date": departure_date}
        if local_only:
            query["source"] = "local"
        return await Flight.find_one(query)

    async def by_ids(self, ids: list[PydanticObjectId]) -> list[Flight]:
        """The flights of a cached result, by departure. (A short `$in` on `_id`: a handful of ids, rarely.)"""
        return await Flight.find({"_id": {"$in": ids}}).sort("departs_at").to_list() if ids else []

    async def last_local_date(self) -> date | None:
        doc = await Flight.find({"source": "local"}).sort("-departure_date").limit(1).first_or_none()
        return date.fromisoformat(doc.departure_date) if doc else None

    async def save_fare(self, flight: Flight, cabin: str, fare: int, currency: str,
                        offer: dict[str, Any] | None) -> None:
        """A re-priced fare (and the priced offer, kept for the next call) on the flight."""
        fields: dict[str, Any] = {f"fares.{cabin}": fare, "currency": currency}
        if offer is not None:
            fields["offer"] = offer
        await collection(Flight).update_one({"_id": flight.id}, {"$set": fields})

    async def save_offer(self, key: dict[str, Any], fields: dict[str, Any], departs_at: datetime,
                         arrives_at: datetime) -> Any:
        """Upsert a live offer as a Flight under `key` (number + date + source); its `_id`, or None when a
        local flight owns the number and date.

        Datetimes go in `$setOnInsert` only: nx-27017 stores a `$set` datetime as a string. A later schedule
        change is written by replacing the whole document, which stores datetimes correctly on both servers.
        """
        times = {"departs_at": departs_at, "arrives_at": arrives_at}
        flights = collection(Flight)
        try:
            await flights.update_one(key, {"$set": fields, "$setOnInsert": times}, upsert=True)
        except DuplicateKeyError:
            # Either a concurrent search inserted it first (update it now) or a local flight has this number.
            if (await flights.update_one(key, {"$set": fields})).matched_count != 1:
                return None
        doc = await flights.find_one(key)
        if doc is None:
            return None
        if _utc(doc.get("departs_at")) != departs_at or _utc(doc.get("arrives_at")) != arrives_at:
            doc.update(times)
            await flights.replace_one({"_id": doc["_id"]}, doc)
        return doc["_id"]


class AirportRepo:
    async def all(self) -> list[Airport]:
        return await Airport.find_all().sort("iata").to_list()

    async def with_codes(self, codes: list[str]) -> list[Airport]:
        return await Airport.find({"iata": {"$in": codes}}).to_list()

    async def add_if_missing(self, airport: Airport) -> None:
        """Insert-only (`$setOnInsert`), so an airport of the seeded network is never rewritten."""
        await collection(Airport).update_one(
            {"iata": airport.iata}, {"$setOnInsert": airport.model_dump(exclude={"id", "revision_id"})},
            upsert=True,
        )


class AircraftRepo:
    async def all(self) -> list[AircraftType]:
        return await AircraftType.find_all().to_list()
