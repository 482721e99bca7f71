"""Numbers for the admin /stats command: bookings by status, revenue, conversion, top routes.

Bookings of the window are read once (see `BookingRepo.created_since` for why not an aggregation) and
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

from models.booking import BookingStatus, PaymentStatus
from repos.bookings import BookingRepo
from repos.counters import CounterRepo
from repos.flight_status import FlightStatusRepo
from services import day_counts
from services.metrics import SEARCHES

SEARCHES_COUNTER = day_counts.SEARCHES
PAID_STATES = (PaymentStatus.PAID, PaymentStatus.REFUNDED)
_counters = CounterRepo()
_bookings = BookingRepo()


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
class DisruptionStats:
    """What happened to sold flights in the period (issue #18)."""

    events: dict[str, int] = field(default_factory=dict)  # status kind → reports applied (delayed, cancelled…)
    rebooked: int = 0  # bookings moved to another flight
    refunded: int = 0  # bookings refunded in full because the traveller chose it
    auto_refunded: int = 0  # … because nothing was chosen in time


@dataclass
class StatsReport:
    generated_at: datetime
    periods: list[PeriodStats]
    top_routes: list[RouteCount]
    top_routes_days: int
    disruptions: DisruptionStats = field(default_factory=DisruptionStats)


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


async def record_search(draft: dict[str, Any], now: datetime) -> bool:
    """Count the search shown from `draft` once: paging, re-sorting or coming back to it isn't a new one."""
    signature = "|".join(str(draft.get(k, "")) for k in ("origin", "destination", "date", "pax"))
    if draft.get("_counted_search") == signature:
        return False
    draft["_counted_search"] = signature
    _unsaved[(SEARCHES_COUNTER, _day(now))] += 1  # written by the next flush: a search costs no write of its own
    SEARCHES.inc()
    return True


# Counts not written yet, per (counter, day): flushed by the sweep, before /stats reads, and at shutdown. A crash
# loses at most one sweep interval of search counts (SWEEP_INTERVAL_SECONDS) — statistics, not money. Shared with
# the seat holds' count (services.day_counts), so one flush writes both.
_unsaved = day_counts.unsaved


async def flush_counters() -> int:
    """Write the counted-but-unsaved events (one write per counter and day); how many searches were written
    (what the sweep reports; the seat holds counted beside them are written too)."""
    written = 0
    for key in list(_unsaved):
        amount = _unsaved.pop(key, 0)
        if amount <= 0:
            continue
        try:
            await _counters.increment(*key, by=amount)
        except Exception:
            _unsaved[key] += amount  # kept for the next flush
            raise
        written += amount if key[0] == SEARCHES_COUNTER else 0
    return written


async def _searches_since(since: datetime) -> int:
    await flush_counters()  # this process's latest searches count too
    return await _counters.total_since(SEARCHES_COUNTER, _day(since))


def period_stats(label: str, since: datetime, docs: list[dict[str, Any]], searches: int) -> PeriodStats:
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


def _route_of(doc: dict[str, Any]) -> tuple[str, str]:
    """Origin and destination of the trip (the outbound way's ends); an old document has one `flight`."""
    segments = doc.get("segments") or [{"flight": doc["flight"], "leg": 0}]
    outbound = [s["flight"] for s in segments if s.get("leg", 0) == 0] or [segments[0]["flight"]]
    return str(outbound[0]["origin"]), str(outbound[-1]["destination"])


def _top_routes(docs: list[dict[str, Any]], limit: int) -> list[RouteCount]:
    counts = Counter(_route_of(d) for d in docs)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # ties by route: a stable list
    return [RouteCount(origin, destination, n) for (origin, destination), n in ranked[:limit]]


async def disruptions_since(since: datetime) -> DisruptionStats:
    """Reports applied and the travellers' choices since `since` (one equality query per history kind: nx-27017
    scans for `$in`)."""
    found = DisruptionStats()
    for event in await FlightStatusRepo().applied_since(int(since.timestamp() * 1000)):
        found.events[event.kind.value] = found.events.get(event.kind.value, 0) + 1
    for kind, name in (("rebooked", "rebooked"), ("disruption_refund", "refunded"),
                       ("disruption_auto_refund", "auto_refunded")):
        setattr(found, name, await _bookings.count_events(kind, since))
    return found


async def compute(now: datetime, *, days: int = 7, routes: int = 5) -> StatsReport:
    """Today (since 00:00 UTC) and the last `days` days, plus the busiest routes of those days."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=days - 1)
    docs = await _bookings.created_since(week)
    periods = [period_stats("Today (UTC)", today, docs, await _searches_since(today)),
               period_stats(f"Last {days} days", week, docs, await _searches_since(week))]
    return StatsReport(now, periods, _top_routes(docs, routes), days, await disruptions_since(week))
