"""Numbers for the admin /stats command: bookings by status, revenue, conversion, top routes.

Bookings of the window are read once (see `_bookings_since` for why not an aggregation) and
grouped here; searches leave no document of their own, so a per-day counter (`DailyCounter`) is
incremented when results are shown. Days are UTC days. Revenue is the price total of CONFIRMED
bookings created in the period (the payment window is minutes, so creation day ≈ payment day);
"paid" also counts bookings paid and later refunded: the funnel shows what travellers did.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from models.booking import Booking, BookingStatus
from models.collections import collection
from models.daily_counter import DailyCounter
from services.metrics import SEARCHES

SEARCHES_COUNTER = "searches"
PAID_STATES = ("paid", "refunded")


@dataclass
class PeriodStats:
    label: str
    since: datetime
    by_status: dict[str, int] = field(default_factory=dict)
    revenue: dict[str, int] = field(default_factory=dict)  # currency → minor units
    searches: int = 0
    bookings: int = 0
    paid: int = 0


@dataclass
class RouteCount:
    origin: str
    destination: str
    bookings: int


@dataclass
class StatsReport:
    generated_at: datetime
    periods: list[PeriodStats]
    top_routes: list[RouteCount]
    top_routes_days: int


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


async def record_search(draft: dict[str, Any], now: datetime) -> bool:
    """Count the search shown from `draft` once: paging, re-sorting or coming back to it isn't a new one."""
    signature = "|".join(str(draft.get(k, "")) for k in ("origin", "destination", "date", "pax"))
    if draft.get("_counted_search") == signature:
        return False
    draft["_counted_search"] = signature
    key, inc = {"name": SEARCHES_COUNTER, "day": _day(now)}, {"$inc": {"total": 1}}
    try:
        await collection(DailyCounter).update_one(key, inc, upsert=True)
    except DuplicateKeyError:  # the day's first searches raced to insert the counter: it exists now
        await collection(DailyCounter).update_one(key, inc)
    SEARCHES.inc()
    return True


async def _searches_since(since: datetime) -> int:
    pipeline: list[dict[str, Any]] = [
        {"$match": {"name": SEARCHES_COUNTER, "day": {"$gte": _day(since)}}},  # ISO days sort as strings
        {"$group": {"_id": None, "n": {"$sum": "$total"}}},
    ]
    async for row in await collection(DailyCounter).aggregate(pipeline):
        return int(row["n"])
    return 0


async def _bookings_since(since: datetime) -> list[dict[str, Any]]:
    # A find, not an aggregation: nx-27017's aggregation `$match` compares datetimes wrongly (every
    # stored date passes `$gte`, none passes `$lt`), while find() filters them correctly; and it can't
    # `$group` by a document `_id`. Whole sub-documents are projected because nx-27017 returns a dotted
    # projection ("price.total") as a flat key. A week of small projections is cheap to group here.
    projection = {"status": 1, "created_at": 1, "price": 1, "payment": 1, "flight": 1, "_id": 0}
    return [doc async for doc in collection(Booking).find({"created_at": {"$gte": since}}, projection)]


def _period(label: str, since: datetime, docs: list[dict[str, Any]], searches: int) -> PeriodStats:
    stats = PeriodStats(label, since, searches=searches)
    for doc in docs:
        if doc["created_at"] < since:
            continue
        status = str(doc.get("status"))
        stats.by_status[status] = stats.by_status.get(status, 0) + 1
        stats.bookings += 1
        if status == BookingStatus.CONFIRMED or doc.get("payment", {}).get("status") in PAID_STATES:
            stats.paid += 1
        if status == BookingStatus.CONFIRMED:
            currency = str(doc["price"]["currency"])
            stats.revenue[currency] = stats.revenue.get(currency, 0) + int(doc["price"]["total"])
    return stats


def _top_routes(docs: list[dict[str, Any]], limit: int) -> list[RouteCount]:
    counts = Counter((str(d["flight"]["origin"]), str(d["flight"]["destination"])) for d in docs)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # ties by route: a stable list
    return [RouteCount(origin, destination, n) for (origin, destination), n in ranked[:limit]]


async def compute(now: datetime, *, days: int = 7, routes: int = 5) -> StatsReport:
    """Today (since 00:00 UTC) and the last `days` days, plus the busiest routes of those days."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=days - 1)
    docs = await _bookings_since(week)
    periods = [_period("Today (UTC)", today, docs, await _searches_since(today)),
               _period(f"Last {days} days", week, docs, await _searches_since(week))]
    return StatsReport(now, periods, _top_routes(docs, routes), days)
