"""Prometheus metrics: one registry owned by this module, served by GET /metrics (webhooks/metrics.py).

Counters and histograms are per process (each replica exposes its own; Prometheus sums them).
The gauges of business state — bookings by status, seat holds active — are read from MongoDB at
scrape time instead of being moved on every transition: bookings change status in handlers, the
Stripe webhook and the sweeps of *any* replica, so only the database knows the current numbers,
and a restart would reset in-process gauges. Counting is a handful of indexed `count_documents`,
cached for `DB_GAUGE_MAX_AGE` seconds so several scrapers (or a scraper per replica) cost little.
Every replica reports the same values for those gauges: aggregate them with max(), not sum().
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from pymongo.errors import PyMongoError

from core.database import current_round_trips, start_round_trip_scope
from core.version import __version__

if TYPE_CHECKING:
    from telegram import Update

    from services.context import Services

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

BUILD = Info("flyo_build", "FlyO version running in this process", registry=REGISTRY)
BUILD.info({"version": __version__})

# ---- Telegram -----------------------------------------------------------------------------------
UPDATES = Counter(
    "flyo_telegram_updates", "Telegram updates received, by type and what flood control did with them",
    ["type", "outcome"], registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "flyo_handler_duration_seconds", "Time to handle one update (state load, work, save, replies)",
    ["type"], registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DB_ROUND_TRIPS = Histogram(
    "flyo_db_round_trips", "Database commands (round trips) one unit of work cost: an update (by type, flood "
    "control to replies), a Stripe webhook request, an inbox event applied (by event type)",
    ["path", "type"], registry=REGISTRY, buckets=(0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 40),
)
# The last units of work and their commands, newest last: (sequence number, chat id | event type, path, commands).
# What the round-trip budget tests read (by sequence number: the list is bounded); bounded.
RECENT_ROUND_TRIPS: collections.deque[tuple[int, int | str, str, list[str]]] = collections.deque(maxlen=2000)
_recorded_units = itertools.count(1)


def round_trip_mark() -> int:
    """The sequence number the next recorded unit of work will have."""
    return RECENT_ROUND_TRIPS[-1][0] + 1 if RECENT_ROUND_TRIPS else 1


def record_round_trips(path: str, kind: str, key: int | str, commands: list[str]) -> None:
    """One unit of work done: its round trips into the histogram and the recent list."""
    DB_ROUND_TRIPS.labels(path, kind).observe(len(commands))
    RECENT_ROUND_TRIPS.append((next(_recorded_units), key, path if path != "update" else kind, list(commands)))
HANDLER_ERRORS = Counter(
    "flyo_handler_errors", "Updates whose handler raised (the error handler told the user)", ["type"],
    registry=REGISTRY,
)
TELEGRAM_WEBHOOK_REQUESTS = Counter(
    "flyo_telegram_webhook_requests", "POST /webhooks/telegram by outcome (forbidden = wrong secret)",
    ["outcome"], registry=REGISTRY,
)
CHATS_BLOCKED = Counter(
    "flyo_chats_blocked", "Chats newly marked as having blocked the bot", registry=REGISTRY,
)
SEARCHES = Counter("flyo_searches", "Flight searches shown to travellers", registry=REGISTRY)

# ---- state read from the database at scrape time -----------------------------------------------
BOOKINGS = Gauge("flyo_bookings", "Bookings by status (from the database)", ["status"], registry=REGISTRY)
SEAT_HOLDS_ACTIVE = Gauge("flyo_seat_holds_active", "Unexpired seat holds not yet booked (from the database)",
                          registry=REGISTRY)
OUTBOX = Gauge("flyo_outbox", "Notification outbox rows by state: pending (due or retrying), sending, failed "
               "(given up) — from the database", ["status"], registry=REGISTRY)
HTTP_RESPONSES = Counter("flyo_http_responses", "Responses of FlyO's web server by status class (2xx, 4xx, 5xx)",
                         ["status"], registry=REGISTRY)
DATABASE_UP = Gauge("flyo_database_up", "1 when the database answered a ping at the last scrape",
                    registry=REGISTRY)
DB_GAUGES_REFRESHED = Gauge("flyo_db_gauges_refreshed_timestamp_seconds",
                            "When flyo_bookings and flyo_seat_holds_active were last read (Unix time)",
                            registry=REGISTRY)

# ---- for payments, mail and jobs (incremented by those modules) ---------------------------------
WEBHOOK_EVENTS = Counter(
    "flyo_webhook_events", "Stripe webhook events by event type and outcome", ["type", "outcome"],
    registry=REGISTRY,
)
FLIGHT_STATUS_REPORTS = Counter(
    "flyo_flight_status_reports", "Flight status reports by kind and what became of them (applied, stale, repeat)",
    ["kind", "outcome"], registry=REGISTRY)
FLIGHT_ALERTS = Counter("flyo_flight_alerts", "Bookings told of a flight status change (a chat message and an e-mail "
                        "each), by kind", ["kind"], registry=REGISTRY)
DISRUPTION_CHOICES = Counter("flyo_disruption_choices", "What travellers on disrupted flights got (rebooked, "
                             "refunded, auto_refunded)", ["choice"], registry=REGISTRY)
EMAILS = Counter("flyo_emails", "E-mails by outcome (sent, failed)", ["outcome"], registry=REGISTRY)
JOB_RUNS = Counter("flyo_job_runs", "Scheduled job runs by job and outcome (ok, error)", ["job", "outcome"],
                   registry=REGISTRY)
JOB_DURATION = Histogram(
    "flyo_job_duration_seconds", "Scheduled job run time", ["job"], registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)

DB_GAUGE_MAX_AGE = 10.0
DB_GAUGE_TIMEOUT = 3.0


def update_type(update: Update) -> str:
    """command | message | callback_query | my_chat_member | other — a small, fixed label set."""
    if update.callback_query is not None:
        return "callback_query"
    message = update.message or update.edited_message
    if message is not None:
        text = message.text or ""
        return "command" if text.startswith("/") else "message"
    if update.my_chat_member is not None:
        return "my_chat_member"
    return "other"


@contextlib.contextmanager
def handler_timer(kind: str) -> Iterator[None]:
    """Observe one handler run in HANDLER_SECONDS; an exception also counts in HANDLER_ERRORS."""
    started = time.perf_counter()
    try:
        yield
    except Exception:
        HANDLER_ERRORS.labels(kind).inc()
        raise
    finally:
        HANDLER_SECONDS.labels(kind).observe(time.perf_counter() - started)


P = ParamSpec("P")
R = TypeVar("R")


def timed_turn(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorator for `run_turn(update, ...)`: the whole turn, lock wait included, is what a user waits."""
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from telegram import Update

        first = args[0] if args else kwargs.get("update")
        kind = update_type(first) if isinstance(first, Update) else "other"
        if current_round_trips() is None:  # flood control starts it for each update (handlers.ops)
            start_round_trip_scope()
        _update_recorded.set(False)
        try:
            with handler_timer(kind):
                return await fn(*args, **kwargs)
        finally:
            record_update_round_trips(first)
    return wrapper


_update_recorded: ContextVar[bool] = ContextVar("flyo_update_round_trips_recorded", default=False)


def record_update_round_trips(update: object) -> None:
    """The update's round trips, recorded once: by the router just before it sends the replies (so whoever
    reads a reply finds its update counted), else when the turn ends."""
    from telegram import Update

    if _update_recorded.get():
        return
    _update_recorded.set(True)
    chat = update.effective_chat if isinstance(update, Update) else None
    kind = update_type(update) if isinstance(update, Update) else "other"
    record_round_trips("update", kind, chat.id if chat is not None else 0, current_round_trips() or [])


@contextlib.contextmanager
def job_timer(job: str) -> Iterator[None]:
    """`with job_timer("auto_cancel"): ...` → JOB_RUNS{job, ok|error} and JOB_DURATION{job}."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        JOB_RUNS.labels(job, outcome).inc()
        JOB_DURATION.labels(job).observe(time.perf_counter() - started)


@dataclass
class _GaugeCache:
    """Kept on the Services object (one per process), so a fresh app — or test — starts uncached."""

    refreshed_at: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _cache(services: Services) -> _GaugeCache:
    found = services.extras.get("metrics.db_gauges")
    if not isinstance(found, _GaugeCache):
        found = services.extras["metrics.db_gauges"] = _GaugeCache()
    return found


async def refresh_db_gauges(services: Services, *, max_age: float = DB_GAUGE_MAX_AGE) -> None:
    """DATABASE_UP from a ping on every scrape; BOOKINGS and SEAT_HOLDS_ACTIVE at most every `max_age` s."""
    cache = _cache(services)
    async with cache.lock:
        up = await services.database.ping(within=2.0)
        DATABASE_UP.set(1 if up else 0)
        if not up or time.monotonic() - cache.refreshed_at < max_age:
            return  # while the database is down the gauges keep their last values (a gap would read as 0)
        cache.refreshed_at = time.monotonic()  # also after a failure: a slow count must not stall every scrape
        try:
            counts, holds, outbox = await asyncio.wait_for(_read_counts(services), DB_GAUGE_TIMEOUT)
        except (PyMongoError, TimeoutError, OSError) as exc:
            reason = (str(exc) or type(exc).__name__).splitlines()[0][:200]  # TimeoutError has no text
            log.warning("metrics: could not count bookings and holds: %s", reason)
            return
        for status, count in counts.items():
            BOOKINGS.labels(status).set(count)
        SEAT_HOLDS_ACTIVE.set(holds)
        for status, count in outbox.items():
            OUTBOX.labels(status).set(count)
        DB_GAUGES_REFRESHED.set(time.time())


async def _read_counts(services: Services) -> tuple[dict[str, int], int, dict[str, int]]:
    from models.booking import BookingStatus
    from models.ops import NotificationStatus

    statuses = list(BookingStatus)
    backlog = [NotificationStatus.PENDING, NotificationStatus.SENDING, NotificationStatus.FAILED]
    # One indexed count per status (the (status, …) indexes) instead of a $group scan.
    results: list[Any] = await asyncio.gather(
        *(services.bookings.repo.count(s) for s in statuses),
        services.seats.active_holds(),
        *(services.notifications.repo.count(s) for s in backlog),
    )
    counts = {s.value: int(n) for s, n in zip(statuses, results[:len(statuses)], strict=True)}
    outbox = {s.value: int(n) for s, n in zip(backlog, results[len(statuses) + 1:], strict=True)}
    return counts, int(results[len(statuses)]), outbox



def count_email(outcome: str) -> None:
    """NotificationService's `on_email` hook (wired by the composition root): EMAILS{outcome}."""
    EMAILS.labels(outcome).inc()


def count_webhook_event(event_type: str, outcome: str) -> None:
    """Services' `on_webhook_event` hook (wired by the composition root): WEBHOOK_EVENTS{type, outcome}."""
    WEBHOOK_EVENTS.labels(event_type, outcome).inc()
