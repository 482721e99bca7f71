"""The reads a connection search makes: local flights of several routes and days, departing in a time window.

Every read is an equality on the single-field `route_key` index (`LHR-JFK-2026-12-15`, ~2 ms on nx-27017),
one per route and day, sent concurrently: nx-27017 answers `$in` and compound-index queries by scanning the
collection (README, Database), and there is no index on `origin` or `destination` alone — the caller knows
which routes exist (the network), so it asks for exactly those keys. No new index is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import date, datetime

from models.flight import Flight, route_key


class ConnectionRepo:
    async def on_routes(self, keys: Iterable[str]) -> dict[str, list[Flight]]:
        """route_key -> its local flights by departure; one equality query per distinct key, concurrently."""
        wanted = list(dict.fromkeys(keys))

        async def one(key: str) -> list[Flight]:
            found = await Flight.find({"route_key": key}).to_list()
            return sorted((f for f in found if f.source == "local"), key=lambda f: f.departs_at)

        results = await asyncio.gather(*(one(k) for k in wanted))
        return dict(zip(wanted, results, strict=True))

    async def departures(self, origin: str, towards: Iterable[str], days: Iterable[date],
                         earliest: datetime, latest: datetime) -> list[Flight]:
        """Local flights from `origin` to any of `towards` on the origin-local `days`, departing within
        [earliest, latest] (UTC); one query per route and day."""
        keys = [route_key(origin, to, day.isoformat()) for to in towards for day in days]
        found = await self.on_routes(keys)
        return sorted((f for batch in found.values() for f in batch if earliest <= f.departs_at <= latest),
                      key=lambda f: f.departs_at)
