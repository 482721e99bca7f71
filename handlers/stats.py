"""Admin /stats: bookings today and this week by status, revenue, conversion and the busiest routes."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from handlers.admin import admin_only
from handlers.context import FlyOContext
from handlers.render import esc, money
from handlers.turn import Turn
from services import stats as stats_service
from services.audit import audit
from services.stats import PeriodStats, StatsReport

STATUS_ORDER = ("PENDING", "CONFIRMED", "CANCELLED")


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _period_lines(p: PeriodStats) -> list[str]:
    statuses = [s for s in STATUS_ORDER if s in p.by_status] + sorted(set(p.by_status) - set(STATUS_ORDER))
    by_status = " · ".join(f"{s.lower()} {p.by_status[s]}" for s in statuses) or "none"
    revenue = " · ".join(money(total, cur) for cur, total in sorted(p.revenue.items())) or "–"
    return [
        f"<b>{esc(p.label)}</b>",
        f"Bookings: {p.bookings} ({by_status})",
        f"Revenue (confirmed): {revenue}",
        f"Conversion: {p.searches} searches → {p.bookings} bookings ({_percent(p.bookings, p.searches)}) "
        f"→ {p.paid} paid ({_percent(p.paid, p.bookings)})",
    ]


def render(report: StatsReport) -> str:
    lines = [f"📊 <b>FlyO stats</b> · {report.generated_at:%d %b %Y %H:%M} UTC", ""]
    for period in report.periods:
        lines += [*_period_lines(period), ""]
    lines.append(f"<b>Top routes, last {report.top_routes_days} days</b>")
    if report.top_routes:
        lines += [f"{i}. {r.origin} → {r.destination}: {r.bookings} booking{'s' if r.bookings != 1 else ''}"
                  for i, r in enumerate(report.top_routes, start=1)]
    else:
        lines.append("No bookings yet.")
    d = report.disruptions
    lines += ["", f"<b>Disruptions, last {report.top_routes_days} days</b>"]
    if d.events or d.rebooked or d.refunded or d.auto_refunded:
        if d.events:
            lines.append("Flight status reports: " + ", ".join(f"{kind} {n}" for kind, n in sorted(d.events.items())))
        lines.append(f"Travellers moved to another flight: {d.rebooked} · refunded by choice: {d.refunded} · "
                     f"refunded for want of a choice: {d.auto_refunded}")
    else:
        lines.append("No flight status reports.")
    return "\n".join(lines)


async def show_stats(turn: Turn, args: list[str]) -> None:
    """The admin sees today's and this week's numbers in one message."""
    report = await stats_service.compute(turn.svc.clock.now())
    await audit(turn.svc.clock, turn.user_id, "stats", "", "shown")
    turn.say(render(report))


_admin_stats = admin_only("stats", show_stats)


async def stats_command(update: Update, context: FlyOContext) -> None:
    """Admins get the numbers; anyone else gets a refusal, and the attempt is audited."""
    await _admin_stats(update, context)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("stats", stats_command, filters=filters.ChatType.PRIVATE))
