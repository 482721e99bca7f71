"""The admins' analytics dashboard (issue #19, part 3): its numbers as the JSON the Mini App page draws, with the
charts drawn here as SVG (services.svg_charts), so the page holds no data and no chart code of its own.

Money is integer minor units in the JSON (`minor`), beside a formatted string for people (`formatted`) — the page
never does arithmetic on amounts. Days are UTC days; the window is 1–90 days ending today.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from models.ops import AuditEntry
from services import svg_charts
from services.context import Services
from services.dashboard_data import LOAD_DAYS, FlightLoad, Numbers, RouteLoad, gather
from services.money import minor_units_exponent, money

MIN_DAYS, MAX_DAYS = 1, 90


class BadWindow(ValueError):
    """`days` that is not a whole number (out-of-range numbers are clamped, not refused)."""


def window_days(raw: str | None, default: int) -> int:
    """The `days` query parameter: absent → `default`; a whole number → clamped to 1..90; else BadWindow."""
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not text.lstrip("-").isdigit() or len(text) > 6:
        raise BadWindow("days must be a whole number of days, from 1 to 90.")
    return min(max(int(text), MIN_DAYS), MAX_DAYS)


def major_units(minor: int, currency: str) -> Decimal:
    """12345 GBP → Decimal("123.45"); 500 JPY → Decimal("500") (ISO 4217 digits)."""
    return Decimal(minor).scaleb(-minor_units_exponent(currency))


def _amounts(totals: dict[str, int]) -> list[dict[str, Any]]:
    return [{"currency": currency, "minor": minor, "formatted": money(minor, currency)}
            for currency, minor in sorted(totals.items())]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _load_json(load: FlightLoad | RouteLoad) -> dict[str, Any]:
    return {"origin": load.origin, "destination": load.destination, "sold": load.sold, "held": load.held,
            "capacity": load.capacity, "load_factor": round(load.load, 4), "load_percent": round(100 * load.load, 1)}


def _flight_json(flight: FlightLoad) -> dict[str, Any]:
    return {**_load_json(flight), "flight_id": flight.flight_id, "flight_number": flight.flight_number,
            "departs_utc": flight.departs_at.isoformat().replace("+00:00", "Z")}


def _audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {"at": entry.at.isoformat().replace("+00:00", "Z"), "actor": entry.actor_id, "action": entry.action,
            "target": entry.target, "outcome": entry.outcome}


def _funnel(numbers: Numbers) -> list[svg_charts.FunnelStep]:
    step = svg_charts.FunnelStep
    return [step("Searches", numbers.searches), step("Seats held", numbers.seat_holds),
            step("Bookings", numbers.bookings), step("Paid", numbers.paid)]


def _load_text(load: FlightLoad | RouteLoad) -> str:
    """"0.6% (2/312)": the same rounding as the JSON's `load_percent`, which the page's tables show."""
    return f"{round(100 * load.load, 1):g}% ({load.sold}/{load.capacity})"


def charts(numbers: Numbers) -> dict[str, str]:
    """The dashboard's four charts as SVG markup."""
    days = [day.label for day in numbers.per_day]
    currencies = sorted({currency for day in numbers.per_day for currency in day.revenue})
    revenue = {currency: [float(major_units(day.revenue.get(currency, 0), currency)) for day in numbers.per_day]
               for currency in currencies}
    totals = {currency: money(minor, currency) for currency, minor in numbers.revenue.items()}
    flights = [svg_charts.LoadBar(f"{f.flight_number} {f.origin}→{f.destination} {f.departs_at:%d %b}", f.load,
                                  _load_text(f)) for f in numbers.flights]
    return {
        "bookings": svg_charts.bar_chart(f"Bookings per day, last {numbers.days} days", days,
                                         [day.bookings for day in numbers.per_day]),
        "revenue": svg_charts.series_chart(f"Revenue per day (confirmed), last {numbers.days} days", days, revenue,
                                           totals=totals),
        "funnel": svg_charts.funnel_chart(f"Conversion, last {numbers.days} days", _funnel(numbers)),
        "load": svg_charts.load_chart(f"Load factor, departures in the next {LOAD_DAYS} days", flights),
    }


def as_json(numbers: Numbers) -> dict[str, Any]:
    funnel = _funnel(numbers)
    return {
        "generated_at": numbers.generated_at.isoformat().replace("+00:00", "Z"),
        "days": numbers.days,
        "since": numbers.since.date().isoformat(),
        "totals": {"bookings": numbers.bookings, "paid": numbers.paid, "revenue": _amounts(numbers.revenue)},
        "per_day": [{"day": day.label, "bookings": day.bookings, "paid": day.paid, "revenue": _amounts(day.revenue)}
                    for day in numbers.per_day],
        "funnel": [{"step": step.label, "count": step.count,
                    "percent_of_previous": _percent(step.count, funnel[i - 1].count) if i else None}
                   for i, step in enumerate(funnel)],
        "load": {"days": LOAD_DAYS, "flights": [_flight_json(f) for f in numbers.flights],
                 "routes": [_load_json(r) | {"flights": r.flights} for r in numbers.routes]},
        "health": {"inbox": numbers.inbox, "outbox": numbers.outbox, "payment_attempts": numbers.attempts},
        "audit": [_audit_json(entry) for entry in numbers.audit],
        "charts": charts(numbers),
    }


async def report(services: Services, days: int) -> dict[str, Any]:
    """Everything the dashboard page shows, for the `days` UTC days ending today."""
    return as_json(await gather(services, days))
