"""Per-day counters (`daily_counters`) for numbers no other document records (searches shown, for /stats)."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from models.daily_counter import DailyCounter
from repos.base import collection


class CounterRepo:
    async def increment(self, name: str, day: str, *, by: int = 1) -> None:
        """+`by` on `name` for UTC day `day` (YYYY-MM-DD), creating the day's counter on first use."""
        key, inc = {"name": name, "day": day}, {"$inc": {"total": by}}
        try:
            await collection(DailyCounter).update_one(key, inc, upsert=True)
        except DuplicateKeyError:  # the day's first events raced to insert the counter: it exists now
            await collection(DailyCounter).update_one(key, inc)

    async def total_since(self, name: str, day: str) -> int:
        """Sum of `name` from day `day` on (ISO days sort as strings)."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"name": name, "day": {"$gte": day}}},
            {"$group": {"_id": None, "n": {"$sum": "$total"}}},
        ]
        async for row in await collection(DailyCounter).aggregate(pipeline):
            return int(row["n"])
        return 0
