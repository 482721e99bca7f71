"""GET /metrics as Prometheus scrapes it: text format, traveller traffic, bookings and holds from the DB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.database import Database
from core.version import __version__
from models import BookingStatus, SeatHold
from repos.base import collection
from services.metrics import EMAILS, WEBHOOK_EVENTS, job_timer
from tests.harness import RunningBot, running_bot
from tests.ops.helpers import http, make_booking


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(bot: RunningBot, **headers: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, response_headers, body = await http("GET", f"{bot.url}/metrics", headers=headers)
    assert status == 200, body
    assert response_headers["Content-Type"].startswith("text/plain")
    return _samples(body.decode())


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_updates_and_handler_latency_are_counted_by_type(bot: RunningBot) -> None:
    before = await scrape(bot)
    ada = bot.telegram.traveller(6101)
    await ada.send("/start")
    await ada.wait_for("Hi Ada")
    await ada.send("hello there")
    await ada.wait_for("/search")
    after = await scrape(bot)
    for kind in ("command", "message"):
        assert value(after, "flyo_telegram_updates_total", type=kind, outcome="accepted") == \
            value(before, "flyo_telegram_updates_total", type=kind, outcome="accepted") + 1
        assert value(after, "flyo_handler_duration_seconds_count", type=kind) == \
            value(before, "flyo_handler_duration_seconds_count", type=kind) + 1
    assert value(after, "flyo_handler_duration_seconds_sum", type="command") > \
        value(before, "flyo_handler_duration_seconds_sum", type="command")
    assert value(after, "flyo_build_info", version=__version__) == 1


async def test_bookings_by_status_and_active_holds_come_from_the_database(bot: RunningBot) -> None:
    now = datetime.now(UTC)
    for status in (BookingStatus.PENDING, BookingStatus.PENDING, BookingStatus.CONFIRMED):
        await make_booking(status=status, created_at=now)
    seats = bot.services.seats
    await seats.hold("f1", "1A", "chat:1", "economy")
    await seats.hold("f1", "1B", "chat:1", "economy")
    lapsed = await collection(SeatHold).update_one({"flight_id": "f1", "seat": "1B"},
                                                   {"$set": {"expires_ms": bot.clock.now_ms() - 1}})
    assert lapsed.modified_count == 1
    samples = await scrape(bot)
    assert value(samples, "flyo_bookings", status="PENDING") == 2
    assert value(samples, "flyo_bookings", status="CONFIRMED") == 1
    assert value(samples, "flyo_bookings", status="CANCELLED") == 0
    assert value(samples, "flyo_seat_holds_active") == 1  # the lapsed hold is not active
    assert value(samples, "flyo_database_up") == 1
    assert value(samples, "flyo_db_gauges_refreshed_timestamp_seconds") > 0


async def test_metrics_for_payments_mail_and_jobs_are_exposed(bot: RunningBot) -> None:
    WEBHOOK_EVENTS.labels("checkout.session.completed", "processed").inc()
    EMAILS.labels("sent").inc()
    with job_timer("test_sweep"):
        pass
    with pytest.raises(RuntimeError), job_timer("test_sweep"):
        raise RuntimeError("boom")
    samples = await scrape(bot)
    assert value(samples, "flyo_webhook_events_total", type="checkout.session.completed",
                 outcome="processed") >= 1
    assert value(samples, "flyo_emails_total", outcome="sent") >= 1
    assert value(samples, "flyo_job_runs_total", job="test_sweep", outcome="ok") >= 1
    assert value(samples, "flyo_job_runs_total", job="test_sweep", outcome="error") >= 1
    assert value(samples, "flyo_job_duration_seconds_count", job="test_sweep") >= 2
    assert value(samples, "process_resident_memory_bytes") > 0


async def test_webhook_events_reported_by_payments_reach_the_counter(bot: RunningBot) -> None:
    before = await scrape(bot)
    bot.services.count_webhook("charge.refunded", "ignored")  # the hook the Stripe webhook calls
    after = await scrape(bot)
    assert value(after, "flyo_webhook_events_total", type="charge.refunded", outcome="ignored") == \
        value(before, "flyo_webhook_events_total", type="charge.refunded", outcome="ignored") + 1


@pytest.fixture
async def token_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(inventory_db, telegram, tmp_path, METRICS_TOKEN="scrape-me") as running:
        yield running


async def test_metrics_token_is_required_when_configured(token_bot: RunningBot) -> None:
    status, headers, _ = await http("GET", f"{token_bot.url}/metrics")
    assert status == 401 and headers.get("WWW-Authenticate") == "Bearer"
    status, _, _ = await http("GET", f"{token_bot.url}/metrics", headers={"Authorization": "Bearer wrong"})
    assert status == 401
    samples = await scrape(token_bot, Authorization="Bearer scrape-me")
    assert value(samples, "flyo_database_up") == 1
