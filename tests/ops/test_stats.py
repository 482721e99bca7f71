"""Admin /stats: what an admin reads; a traveller is refused and the attempt is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.database import Database
from models import AuditEntry, BookingStatus
from models.daily_counter import DailyCounter
from services.stats import SEARCHES_COUNTER, compute, flush_counters
from tests.flows import search_one_line, travel_day
from tests.harness import RunningBot, running_bot
from tests.ops.helpers import make_booking, sample

ADMIN = 7777


@pytest.fixture
async def admin_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(inventory_db, telegram, tmp_path, ADMIN_IDS=frozenset({ADMIN})) as running:
        yield running


async def _seed_bookings(bot: RunningBot) -> None:
    now = bot.clock.now()
    make = make_booking
    await make(status=BookingStatus.PENDING, created_at=now, total=45_000, currency="EUR")
    await make(status=BookingStatus.CONFIRMED, created_at=now, total=45_000, currency="EUR",
               payment_status="paid")
    await make(status=BookingStatus.CONFIRMED, created_at=now, total=30_000, currency="GBP",
               origin="LHR", destination="CDG", payment_status="paid")
    await make(status=BookingStatus.CANCELLED, created_at=now, total=45_000, currency="EUR",
               origin="JFK", destination="LAX", payment_status="refunded")
    await make(status=BookingStatus.CONFIRMED, created_at=now - timedelta(days=3), total=50_000,
               currency="USD", origin="JFK", destination="LAX", payment_status="paid")
    await make(status=BookingStatus.CONFIRMED, created_at=now - timedelta(days=10), total=99_900,
               currency="EUR", origin="CDG", destination="LHR", payment_status="paid")  # outside 7 days
    three_days_ago = (now - timedelta(days=3)).date().isoformat()
    await DailyCounter(name=SEARCHES_COUNTER, day=three_days_ago, total=10).insert()


async def test_a_search_counts_once_however_often_its_results_are_redrawn(admin_bot: RunningBot) -> None:
    ada = admin_bot.telegram.traveller(7101)
    before = sample("flyo_searches_total")
    await search_one_line(ada, "LHR", "JFK", travel_day(admin_bot.clock), 1)
    await ada.press("By price")
    await ada.wait_for("tap a fare")
    await ada.press("By time")
    await ada.wait_for("tap a fare")
    assert await flush_counters() == 1  # counted in memory, written in one go (by the sweep, /stats, shutdown)
    counters = await DailyCounter.find(DailyCounter.name == SEARCHES_COUNTER).to_list()
    assert [c.total for c in counters] == [1]
    assert sample("flyo_searches_total") == before + 1
    await ada.press("Day after")  # another date is another search
    await ada.wait_for("tap a fare")
    assert admin_bot.services.sweeper is not None
    await admin_bot.services.sweeper.run()
    counters = await DailyCounter.find(DailyCounter.name == SEARCHES_COUNTER).to_list()
    assert [c.total for c in counters] == [2]


async def test_admin_sees_bookings_revenue_conversion_and_top_routes(admin_bot: RunningBot) -> None:
    await _seed_bookings(admin_bot)
    ada = admin_bot.telegram.traveller(7102)
    await search_one_line(ada, "LHR", "JFK", travel_day(admin_bot.clock), 1)  # today's one search

    admin = admin_bot.telegram.traveller(ADMIN, first_name="Ops")
    await admin.send("/stats")
    text = (await admin.wait_for("FlyO stats")).plain_text()
    today, week = text.split("Last 7 days")
    assert "Bookings: 4 (pending 1 · confirmed 2 · cancelled 1)" in today
    assert "Revenue (confirmed): €450.00 · £300.00" in today  # by currency code
    assert "Conversion: 1 searches → 4 bookings (400%) → 3 paid (75%)" in today
    assert "Bookings: 5 (pending 1 · confirmed 3 · cancelled 1)" in week
    assert "£300.00" in week and "€450.00" in week and "$500.00" in week and "€999.00" not in week
    assert "Conversion: 11 searches → 5 bookings (45%) → 4 paid (80%)" in week
    routes = week.split("Top routes, last 7 days")[1].split("Disruptions")[0].strip().splitlines()
    assert routes == ["1. JFK → LAX: 2 bookings", "2. LHR → JFK: 2 bookings", "3. LHR → CDG: 1 booking"]
    audit = await AuditEntry.find(AuditEntry.actor_id == ADMIN).to_list()
    assert [(a.action, a.outcome) for a in audit] == [("stats", "shown")]


async def test_traveller_is_refused_and_the_attempt_is_audited(admin_bot: RunningBot) -> None:
    await _seed_bookings(admin_bot)
    mallory = admin_bot.telegram.traveller(7103)
    await mallory.send("/stats")
    refusal = await mallory.wait_for("staff only")
    assert "€" not in refusal.plain_text() and "Bookings" not in refusal.plain_text()
    audit = await AuditEntry.find(AuditEntry.actor_id == 7103).to_list()
    assert [(a.action, a.outcome) for a in audit] == [("stats", "refused")]


async def test_empty_database_reads_as_zeros_not_errors(db: Database) -> None:
    from core.clock import Clock

    report = await compute(Clock().now())
    assert [p.bookings for p in report.periods] == [0, 0]
    assert [p.searches for p in report.periods] == [0, 0]
    assert report.top_routes == []
