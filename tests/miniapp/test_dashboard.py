"""The admins' dashboard (issue #19, part 3) against the real FlyO: bookings made and paid through the real flow
(chat, Stripe webhook, inbox), then what the API, the CSV export and /dashboard give an admin — and what they give
everyone else (nothing)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.database import Database
from models import Booking, BookingStatus
from models.ops import AuditEntry
from services import day_counts
from services.dashboard_csv import COLUMNS, safe_cell
from tests.conftest import SCRIPTED_FLOOD_LIMIT
from tests.harness import RunningBot, running_bot
from tests.miniapp.conftest import PUBLIC
from tests.miniapp.webapp_browser import init_data
from tests.ops.helpers import make_booking
from tests.paying import ADMIN_ID, PayingBot

TRAVELLER = 6101


@pytest.fixture(autouse=True)
def _counts_start_at_zero() -> Iterator[None]:
    """The per-day counts wait in memory for the sweep: counts left by earlier tests belong to their database."""
    day_counts.unsaved.clear()
    yield
    day_counts.unsaved.clear()


def _admin(bot: RunningBot, user_id: int = ADMIN_ID) -> dict[str, str]:
    data = init_data(bot.settings.bot_token, user_id, signed_at=bot.clock.now().timestamp())
    return {"Authorization": f"tma {data}"}


async def _get(bot: RunningBot, path: str, headers: dict[str, str], **params: str) -> tuple[int, Any, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}{path}", headers=headers,
                                                         params=params) as got:
        return got.status, got.headers, await got.text()


async def _two_paid(paying: PayingBot) -> list[Booking]:
    ada = paying.telegram.traveller(TRAVELLER)
    bob = paying.telegram.traveller(TRAVELLER + 1)
    return [await paying.paid_booking(ada, ["Ada Lovelace"]), await paying.paid_booking(bob, ["Bob Babbage"])]


async def test_the_admin_sees_the_numbers_of_real_paid_bookings(paying: PayingBot) -> None:
    bot = paying.bot
    booked = await _two_paid(paying)
    status, _headers, text = await _get(bot, "/app/api/dashboard", _admin(bot), days="14")
    assert status == 200, text
    data = json.loads(text)
    assert data["days"] == 14 and len(data["per_day"]) == 14
    today = data["per_day"][-1]
    assert today["day"] == bot.clock.now().date().isoformat()
    assert (today["bookings"], today["paid"]) == (2, 2)
    currency = booked[0].price.currency
    total = sum(b.price.total for b in booked)
    assert today["revenue"] == data["totals"]["revenue"] == [
        {"currency": currency, "minor": total, "formatted": today["revenue"][0]["formatted"]}]
    assert today["revenue"][0]["formatted"].replace(",", "").endswith(f"{total / 100:.2f}")
    assert data["totals"]["bookings"] == 2 and data["totals"]["paid"] == 2
    funnel = {step["step"]: step["count"] for step in data["funnel"]}
    assert funnel == {"Searches": 2, "Seats held": 2, "Bookings": 2, "Paid": 2}
    assert data["funnel"][3]["percent_of_previous"] == 100.0

    flight_ids = {b.segments[0].flight.flight_id for b in booked}
    flight = await bot.services.flights.get(next(iter(flight_ids)))
    assert flight is not None
    capacity = sum(bot.services.aircraft[flight.aircraft].capacity().values())
    shown = [f for f in data["load"]["flights"] if f["flight_id"] in flight_ids]
    seats_sold = {f["flight_id"]: f["sold"] for f in shown}
    assert sum(seats_sold.values()) == 2 and all(f["capacity"] == capacity for f in shown)
    for entry in shown:
        assert entry["load_factor"] == round(entry["sold"] / capacity, 4) and entry["held"] == 0
    route = data["load"]["routes"][0]
    assert (route["origin"], route["destination"], route["sold"]) == ("LHR", "JFK", 2)

    health = data["health"]
    assert health["inbox"]["done"] == 2 and health["inbox"]["dead"] == 0
    assert health["payment_attempts"]["paid"] == 2
    assert set(health["outbox"]) == {"pending", "sending", "failed", "retried"}
    for name in ("bookings", "revenue", "funnel", "load"):
        root = ET.fromstring(data["charts"][name])
        assert root.get("role") == "img" and "No data" not in (root.get("aria-label") or ""), name
    # Reading the dashboard is audited, and the audit shows on the next read.
    _status, _headers, again = await _get(bot, "/app/api/dashboard", _admin(bot))
    audit = json.loads(again)["audit"]
    assert audit[0]["action"] == "dashboard" and audit[0]["actor"] == ADMIN_ID and audit[0]["outcome"] == "shown"


async def test_seat_holds_are_counted_in_memory_and_written_by_the_sweep(paying: PayingBot) -> None:
    from models.daily_counter import DailyCounter
    from tests.flows import to_passengers

    ada = paying.telegram.traveller(TRAVELLER + 5)
    await to_passengers(ada, paying.bot.clock, pax=2)  # pick for me (2 new holds), then continue (refreshes)
    assert day_counts.unsaved[(day_counts.SEAT_HOLDS, day_counts.utc_day(paying.bot.clock.now()))] == 2
    assert await DailyCounter.find(DailyCounter.name == day_counts.SEAT_HOLDS).count() == 0  # no write per hold
    assert paying.services.sweeper is not None
    await paying.services.sweeper.run()
    stored = await DailyCounter.find(DailyCounter.name == day_counts.SEAT_HOLDS).to_list()
    assert [c.total for c in stored] == [2]


def _no_booking_data(text: str, booked: list[Booking]) -> None:
    assert all(b.reference not in text for b in booked)
    for marker in ("LHR", "per_day", "revenue", "ada@example.com", "Lovelace", "charts"):
        assert marker not in text


async def test_everyone_but_an_admin_is_refused_and_sees_nothing(paying: PayingBot) -> None:
    bot = paying.bot
    booked = await _two_paid(paying)
    token = bot.settings.bot_token
    now = bot.clock.now().timestamp()
    cases = {
        "no header": ({}, 401),
        "not tma": ({"Authorization": "Bearer x"}, 401),
        "forged hash": ({"Authorization": "tma " + init_data(token, ADMIN_ID).replace("hash=", "hash=0")}, 401),
        "another user's data with the admin's id": (
            {"Authorization": "tma " + init_data(token, TRAVELLER).replace(str(TRAVELLER), str(ADMIN_ID))}, 401),
        "another bot's token": ({"Authorization": "tma " + init_data("999:other-bot-token", ADMIN_ID)}, 401),
        "signed too long ago": ({"Authorization": "tma " + init_data(
            token, ADMIN_ID, signed_at=now - bot.settings.WEBAPP_AUTH_MAX_AGE_SECONDS - 5)}, 401),
        "a traveller": (_admin(bot, TRAVELLER), 403),
    }
    for path in ("/app/api/dashboard", "/app/api/dashboard/bookings.csv"):
        for case, (headers, expected) in cases.items():
            status, got_headers, text = await _get(bot, path, headers, days="14")
            assert status == expected, f"{path} {case}: {status} {text}"
            assert json.loads(text)["error"] == ("forbidden" if expected == 403 else "unauthorized")
            assert "attachment" not in got_headers.get("Content-Disposition", "")
            _no_booking_data(text, booked)
    status, _headers, text = await _get(bot, "/app/api/dashboard", _admin(bot, TRAVELLER), days="nonsense")
    assert status == 403  # who asks is checked before what is asked


async def test_init_data_expires_when_the_flyo_clock_moves(paying: PayingBot) -> None:
    bot = paying.bot
    headers = _admin(bot)
    assert (await _get(bot, "/app/api/dashboard", headers))[0] == 200
    bot.clock.advance(timedelta(seconds=bot.settings.WEBAPP_AUTH_MAX_AGE_SECONDS + 1))
    status, _headers, text = await _get(bot, "/app/api/dashboard", headers)
    assert status == 401 and "expired" in json.loads(text)["message"]
    assert (await _get(bot, "/app/api/dashboard", _admin(bot)))[0] == 200  # fresh init data works again


@pytest.mark.parametrize(("days", "status", "window"), [
    ("1", 200, 1), ("0", 200, 1), ("-5", 200, 1), ("90", 200, 90), ("365", 200, 90), ("", 200, 14),
    ("abc", 400, None), ("1.5", 400, None), ("9" * 40, 400, None), ("7; drop", 400, None),
])
async def test_the_window_is_clamped_and_nonsense_refused(paying: PayingBot, days: str, status: int,
                                                           window: int | None) -> None:
    got, _headers, text = await _get(paying.bot, "/app/api/dashboard", _admin(paying.bot), days=days)
    assert got == status, text
    body = json.loads(text)
    if window is None:
        assert body["error"] == "bad_request" and "whole number" in body["message"] and "per_day" not in body
    else:
        assert body["days"] == window and len(body["per_day"]) == window


async def test_the_csv_export_has_one_row_per_booking_and_no_formulas(paying: PayingBot) -> None:
    bot = paying.bot
    booked = await _two_paid(paying)
    hostile = await make_booking(status=BookingStatus.CANCELLED, created_at=bot.clock.now() - timedelta(days=2),
                                 total=12_345, currency="KWD", origin="CDG", destination="LHR")
    hostile.passengers[0].full_name = "=HYPERLINK(\"http://evil.example\",\"x\")"
    hostile.email = "+cmd|' /C calc'!A0@example.com"
    await hostile.save()
    old = await make_booking(status=BookingStatus.CANCELLED, created_at=bot.clock.now() - timedelta(days=40))

    status, headers, text = await _get(bot, "/app/api/dashboard/bookings.csv", _admin(bot), days="30")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    today = bot.clock.now().date().isoformat()
    assert headers["Content-Disposition"] == f'attachment; filename="flyo-bookings-{today}.csv"'
    assert headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(COLUMNS)
    by_reference = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}
    assert set(by_reference) == {b.reference for b in booked} | {hostile.reference}  # 40 days ago: not in 30
    assert old.reference not in text
    ada = by_reference[booked[0].reference]
    assert ada["status"] == "CONFIRMED" and ada["payment_status"] == "paid" and ada["route"] == "LHR-JFK"
    assert ada["amount"] == f"{booked[0].price.total / 100:.2f}" and ada["currency"] == booked[0].price.currency
    assert ada["passengers"] == "Ada Lovelace" and ada["email"] == "ada@example.com"
    assert ada["created_utc"].endswith("Z") and ada["departure_utc"].startswith(
        booked[0].first_flight.departs_at.strftime("%Y-%m-%dT%H:%M"))
    evil = by_reference[hostile.reference]
    assert evil["passengers"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert evil["email"].startswith("'+cmd")
    assert evil["amount"] == "12.345" and evil["route"] == "CDG-LHR"  # KWD: three decimals
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    entry = await AuditEntry.find_one(AuditEntry.action == "export_bookings")
    assert entry is not None and entry.actor_id == ADMIN_ID and entry.detail == "30 days"


@pytest.mark.parametrize(("value", "shown"), [
    ("=1+2", "'=1+2"), ("+44 20", "'+44 20"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=x", "'\t=x"),
    ("\r=x", "'\r=x"), ("Ada", "Ada"), ("a=b", "a=b"), ("", ""), ("489.00", "489.00"),
])
def test_a_cell_that_would_start_a_formula_is_quoted(value: str, shown: str) -> None:
    assert safe_cell(value) == shown


async def test_the_page_is_served_bare_with_strict_headers(paying: PayingBot) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{paying.bot.url}/app/dashboard/") as got:
            html = await got.text()
            assert got.status == 200 and got.headers["Cache-Control"] == "no-store"
            assert "'unsafe-inline'" not in got.headers["Content-Security-Policy"]
        for name in ("dashboard.js", "dashboard.css"):
            async with http.get(f"{paying.bot.url}/app/static/{name}") as got:
                assert got.status == 200 and len(await got.read()) > 500
    assert '<script data-telegram async src="https://telegram.org/js/telegram-web-app.js"></script>' in html
    assert html.index("/app/static/app.js") < html.index("/app/static/dashboard.js")
    assert "style=" not in html and "<script>" not in html and "per_day" not in html


# ---- /dashboard in the chat ----------------------------------------------------------------------------------
@pytest.fixture
async def https_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(inventory_db, telegram, tmp_path, FLOOD_MAX_UPDATES=SCRIPTED_FLOOD_LIMIT,
                           PUBLIC_URL=PUBLIC, ADMIN_IDS=str(ADMIN_ID)) as running:
        yield running


@pytest.fixture
async def http_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(inventory_db, telegram, tmp_path, FLOOD_MAX_UPDATES=SCRIPTED_FLOOD_LIMIT,
                           PUBLIC_URL="http://flyo.example.com", ADMIN_IDS=str(ADMIN_ID)) as running:
        yield running


async def test_dashboard_gives_an_admin_the_mini_app_button(https_bot: RunningBot) -> None:
    admin = https_bot.telegram.traveller(ADMIN_ID, first_name="Ops")
    await admin.send("/dashboard")
    message = await admin.wait_for("charts")
    button = message.find_button("Open dashboard")
    assert button.web_app == f"{PUBLIC}/app/dashboard/" and button.url is None
    entry = await AuditEntry.find_one(AuditEntry.action == "dashboard")
    assert entry is not None and entry.outcome == "offered" and entry.actor_id == ADMIN_ID
    await admin.send("/help")
    assert "/dashboard" in (await admin.wait_for("Admin:")).plain_text()


async def test_dashboard_without_https_says_why_and_points_to_stats(http_bot: RunningBot) -> None:
    admin = http_bot.telegram.traveller(ADMIN_ID)
    await admin.send("/dashboard")
    message = await admin.wait_for("HTTPS")
    assert "PUBLIC_URL" in message.plain_text() and "/stats" in message.plain_text()
    assert message.buttons == []


async def test_dashboard_is_refused_to_a_traveller_and_audited(https_bot: RunningBot) -> None:
    eve = https_bot.telegram.traveller(TRAVELLER + 9)
    await eve.send("/dashboard")
    refusal = await eve.wait_for("staff only")
    assert refusal.buttons == []
    entry = await AuditEntry.find_one(AuditEntry.action == "dashboard")
    assert entry is not None and entry.outcome == "refused" and entry.actor_id == TRAVELLER + 9
    await eve.send("/help")
    assert "/dashboard" not in (await eve.wait_for("/help")).plain_text()
