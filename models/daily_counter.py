"""Small per-day counters for numbers no other document records (e.g. searches shown, for /stats)."""

from __future__ import annotations

from typing import ClassVar

from beanie import Document
from pymongo import ASCENDING, IndexModel


class DailyCounter(Document):
    """`total` events named `name` on UTC day `day` (YYYY-MM-DD); incremented by an upserting `$inc`."""

    name: str
    day: str
    total: int = 0

    class Settings:
        name = "daily_counters"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("name", ASCENDING), ("day", ASCENDING)], unique=True),
        ]
