"""The reads a connection search makes: the local flights of several routes and days.

Every read is an equality on the single-field `route_key` index (`LHR-JFK-2026-12-15`, ~2 ms on nx-27017),
one per route and day, sent concurrently: nx-27017 answers `$in` and compound-index queries by scanning the
collection (README, Database), and there is no index on `origin` or `destination` alone — the caller knows
which routes exist (the network), so it asks for exactly those keys. No new index is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from models.flight import Flight


class ConnectionRepo:
    async def on_routes(self, keys: Iterable[str]) -> dict[str, list[Flight]]:
        """route_key -> its local flights by departure; one equality query per distinct key, concurrently."""
        wanted = list(dict.fromkeys(keys))

        async def one(key: str) -> list[Flight]:
            found = await Flight.find({"route_key": key}).to_list()
            return sorted((f for f in found if f.source == "local"), key=lambda f: f.departs_at)

        results = await asyncio.gather(*(one(k) for k in wanted))
        return dict(zip(wanted, results, strict=True))
