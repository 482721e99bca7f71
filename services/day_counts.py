"""Events no document records, counted per UTC day in memory: searches shown (/stats) and seats held (the
dashboard's funnel). Counting costs no database write of its own; services.stats.flush_counters writes what
was counted, one `$inc` per counter and day, from the sweep, before a read, and at shutdown.

A module with no FlyO imports, so the seat holds (services.seats) can count without importing the stats
service (whose metrics module reaches back to the services through services.context).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

SEARCHES = "searches"
SEAT_HOLDS = "seat_holds"  # seats a traveller's chat newly held (a refresh of its own hold is not counted)

# Counts not written yet, per (counter, UTC day "YYYY-MM-DD"). A crash loses at most one sweep interval's.
unsaved: Counter[tuple[str, str]] = Counter()


def utc_day(moment: datetime) -> str:
    return moment.date().isoformat()


def count(name: str, moment: datetime, by: int = 1) -> None:
    unsaved[(name, utc_day(moment))] += by
