"""The numbers of the admins' dashboard (issue #19), gathered for one window of UTC days ending today.

Bookings per day and revenue come from the bookings created in the window, read once (`BookingRepo.created_since`,
as /stats does) and grouped here, with /stats' rules: revenue is the total of CONFIRMED bookings by creation day;
"paid" counts CONFIRMED ones and those paid then refunded. Searches and seats held leave no document of their own:
they are per-day counters (services.day_counts), flushed first so this process's latest count too. Load factor
looks forward instead (the next LOAD_DAYS days of departures): seats sold are booked seats, capacity is the
aircraft layout's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId

from core.clock import as_utc
from models.flight import Flight
from models.ops import AttemptStatus, AuditEntry
from repos.bookings import BookingRepo
from repos.counters import CounterRepo
from repos.dashboard import DashboardRepo
from repos.flights import FlightRepo
from services import day_counts
from services.context import Services
from services.stats import (
    PAID_STATES,
    PeriodStats,
    flush_counters,
    period_stats,  # the same rules as /stats, per day
)

LOAD_DAYS = 14
TOP_FLIGHTS = 20
AUDIT_ROWS = 20
_repo = DashboardRepo()


@dataclass(frozen=True)
class FlightLoad:
    flight_id: str
    flight_number: str
    origin: str
    destination: str
    departs_at: datetime  # UTC
    sold: int  # booked (paid) seats
    held: int  # seats held by a traveller or an unpaid booking
    capacity: int

    @property
    def load(self) -> float:
        return self.sold / self.capacity if self.capacity else 0.0


@dataclass(frozen=True)
class RouteLoad:
    origin: str
    destination: str
    flights: int
    sold: int
    held: int
    capacity: int

    @property
    def load(self) -> float:
        return self.sold / self.capacity if self.capacity else 0.0


@dataclass
class Numbers:
    generated_at: datetime
    days: int
    since: datetime  # 00:00 UTC of the window's first day
    per_day: list[PeriodStats]  # label: the UTC day (YYYY-MM-DD); searches not counted per day
    searches: int
    seat_holds: int
    flights: list[FlightLoad]  # the top TOP_FLIGHTS by load factor
    routes: list[RouteLoad]  # every route with a seat sold or held, by load factor
    inbox: dict[str, int]
    outbox: dict[str, int]
    attempts: dict[str, int]
    audit: list[AuditEntry]

    @property
    def bookings(self) -> int:
        return sum(day.bookings for day in self.per_day)

    @property
    def paid(self) -> int:
        return sum(day.paid for day in self.per_day)

    @property
    def revenue(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for day in self.per_day:
            for currency, amount in day.revenue.items():
                total[currency] = total.get(currency, 0) + amount
        return dict(sorted(total.items()))


def window_start(now: datetime, days: int) -> datetime:
    """00:00 UTC of the first of the `days` days ending today."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)


def _per_day(since: datetime, days: int, docs: list[dict[str, Any]]) -> list[PeriodStats]:
    """One PeriodStats per UTC day (counted by /stats' own rules), oldest first."""
    by_day: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_day.setdefault(day_counts.utc_day(as_utc(doc["created_at"])), []).append(doc)
    starts = [since + timedelta(days=n) for n in range(days)]
    return [period_stats(day_counts.utc_day(start), start, by_day.get(day_counts.utc_day(start), []), 0)
            for start in starts]


def _object_ids(raw: list[str]) -> list[PydanticObjectId]:
    ids = []
    for value in raw:
        try:
            ids.append(PydanticObjectId(value))
        except (InvalidId, TypeError, ValueError):
            continue  # a hold of a flight id FlyO no longer knows the shape of: nothing to weigh it against
    return ids


def _capacity(services: Services, flight: Flight) -> int:
    aircraft = services.aircraft.get(flight.aircraft)
    return sum((aircraft.capacity() if aircraft else flight.capacity).values())


async def loads(services: Services, now: datetime) -> list[FlightLoad]:
    """Every flight departing in the next LOAD_DAYS days with a seat sold or held, best filled first."""
    seats = await _repo.seats_per_flight(int(now.timestamp() * 1000))
    until = now + timedelta(days=LOAD_DAYS)
    found = []
    for flight in await FlightRepo().by_ids(_object_ids(list(seats))):
        departs = as_utc(flight.departs_at)
        if not now <= departs < until:
            continue
        sold, held = seats[str(flight.id)]
        found.append(FlightLoad(str(flight.id), flight.flight_number, flight.origin, flight.destination, departs,
                                sold, held, _capacity(services, flight)))
    return sorted(found, key=lambda f: (-f.load, -f.held, f.departs_at, f.flight_number))


def by_route(flights: list[FlightLoad]) -> list[RouteLoad]:
    routes: dict[tuple[str, str], list[FlightLoad]] = {}
    for flight in flights:
        routes.setdefault((flight.origin, flight.destination), []).append(flight)
    found = [RouteLoad(origin, destination, len(group), sum(f.sold for f in group), sum(f.held for f in group),
                       sum(f.capacity for f in group)) for (origin, destination), group in routes.items()]
    return sorted(found, key=lambda r: (-r.load, -r.held, r.origin, r.destination))


async def attempts(since: datetime, docs: list[dict[str, Any]]) -> dict[str, int]:
    """Checkout Sessions created in the window per state (every state, zero where none). The row of a booking's
    current attempt is not rewritten when it is paid (services.payment_events): the booking's payment says it,
    as in PaymentService.summary."""
    paid = {doc["payment"].get("session_id") for doc in docs if doc.get("payment", {}).get("status") in PAID_STATES}
    counts = {status.value: 0 for status in AttemptStatus}
    for session_id, status in await _repo.attempts_since(since):
        state = AttemptStatus.PAID.value if session_id in paid else status
        counts[state] = counts.get(state, 0) + 1
    return counts


async def gather(services: Services, days: int) -> Numbers:
    """The dashboard's numbers for the `days` UTC days ending today (and the next LOAD_DAYS days' departures)."""
    now = services.clock.now()
    since = window_start(now, days)
    docs = await BookingRepo().created_since(since)
    await flush_counters()  # this process's latest searches and holds count too
    counters = CounterRepo()
    flights = await loads(services, now)
    return Numbers(
        generated_at=now, days=days, since=since, per_day=_per_day(since, days, docs),
        searches=await counters.total_since(day_counts.SEARCHES, day_counts.utc_day(since)),
        seat_holds=await counters.total_since(day_counts.SEAT_HOLDS, day_counts.utc_day(since)),
        flights=flights[:TOP_FLIGHTS], routes=by_route(flights),
        inbox=await _repo.inbox_by_status(), outbox=await _repo.outbox_health(),
        attempts=await attempts(since, docs), audit=await _repo.latest_audit(AUDIT_ROWS),
    )
