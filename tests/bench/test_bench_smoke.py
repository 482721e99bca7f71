"""Smoke test of `make bench`: every scenario at tiny sizes, asserting the correctness columns only.

Timing is never asserted here (a shared CI machine makes any threshold flaky); what must hold at any
speed is exactly what makes the real run fail: 20 holds for 20 seats, no double hold, one confirmation
and one e-mail per booking, and the other scenarios' checks. A deliberately broken hold proves the seat
race's checks can fail at all.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from beanie import init_beanie
from telegram.request import HTTPXRequest

from bench import __main__ as cli
from bench import connections, conversation, memory, mongodb, parse, search, seat_race, webhook
from bench.common import BenchConfig, Row, ScenarioResult, Summary, percentile, render_table, uri_hosts
from bench.load import BuilderSettings, build_echo_application, product_builder_settings, request_pool_of
from bot.db import open_database
from bot.telegram_request import AiohttpRequest
from core.database import Database
from models import ALL_DOCUMENTS
from services.seats import SeatService


@pytest.fixture
def config(tmp_path: Path) -> BenchConfig:
    return BenchConfig(quick=True, reps=1, mongo_uri=os.environ.get("TEST_MONGODB_URI", ""), work_dir=tmp_path)


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """The bench logs like production (root handlers replaced); give pytest its logging back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
async def bench_db(database_session: Database) -> AsyncIterator[None]:
    """Scenarios open their own database (and point Beanie at it): point it back at the tests' one after."""
    yield
    await init_beanie(database=database_session.db, document_models=ALL_DOCUMENTS)


def assert_checks_held(result: ScenarioResult, *names: str) -> None:
    assert result.error is None, result.error
    assert result.rows, "a scenario must report at least one row"
    seen = {c.name for c in result.checks}
    assert set(names) <= seen, f"missing checks {set(names) - seen}; got {seen}"
    assert not result.failed_checks, result.failed_checks


@pytest.mark.slow
async def test_seat_race_grants_exactly_the_free_seats(config: BenchConfig, bench_db: None) -> None:
    result = await seat_race.run(config)
    assert_checks_held(result, "holds granted", "double holds")
    assert all(c.detail.startswith(f"{seat_race.FREE_SEATS} holds") for c in result.checks if c.name == "holds granted")


@pytest.mark.slow
async def test_seat_race_catches_a_broken_hold(config: BenchConfig, bench_db: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    async def grants_everything(self: Any, flight_id: str, seat: str, holder: str, cabin: str = "") -> int:
        return 0  # "yours!" without claiming anything: the race must notice

    monkeypatch.setattr(SeatService, "hold", grants_everything)
    result = await seat_race.run(config)
    failed = {c.name for c in result.failed_checks}
    assert {"holds granted", "double holds"} <= failed
    assert "FAIL" in render_table([result], config, 1.0)


@pytest.mark.slow
async def test_webhook_confirms_each_booking_once_with_one_email(config: BenchConfig, bench_db: None) -> None:
    result = await webhook.run(config)
    assert_checks_held(result, "answered 200", "confirmed once", "one e-mail", "one chat confirmation")
    metrics = [r.metric for r in result.rows]
    assert any("÷ bare conditional update_one ops/s" in m for m in metrics), metrics
    assert any("÷ bare update_one p99" in m for m in metrics), metrics
    end_to_end = next(r for r in result.rows if "CONFIRMED + chat message + e-mail queued" in r.metric)
    assert end_to_end.status == "info" and "n/a" not in end_to_end.measured, end_to_end
    assert any("End to end was measured for 20/20 bookings" in n for n in result.notes), result.notes
    assert any("made 20 transitions for 20 distinct events" in n for n in result.notes), result.notes


@pytest.mark.slow
async def test_conversation_books_every_traveller(config: BenchConfig, bench_db: None) -> None:
    result = await conversation.run(config)
    assert_checks_held(result, "payment links", "double-booked seats")


async def test_echo_baseline_is_stock_ptb_with_the_products_pool(database_session: Database, bench_db: None,
                                                                  tmp_path: Path) -> None:
    like = await product_builder_settings(database_session, tmp_path)
    assert like.concurrent_updates == 32 and (like.pool_size, like.pool_timeout) == (64, 10.0), like
    echo = build_echo_application("123:ECHO", "http://127.0.0.1:9", like)
    assert type(echo.bot.request) is HTTPXRequest  # PTB's default client, whatever FlyO switched to
    assert request_pool_of(echo.bot.request) == (like.pool_size, like.pool_timeout)


def test_pool_settings_read_from_any_request_object() -> None:
    assert request_pool_of(AiohttpRequest(connection_pool_size=7, pool_timeout=2.5)) == (7, 2.5)
    assert request_pool_of(AiohttpRequest(connection_pool_size=7, pool_timeout=None)) == (7, None)
    assert request_pool_of(HTTPXRequest(connection_pool_size=9, pool_timeout=3.0)) == (9, 3.0)
    assert request_pool_of(object()) == (64, 10.0)  # a client the bench doesn't know: bot/app.py's values

    class Odd:
        connection_pool_size = "lots"
        pool_timeout = "soon"
    assert request_pool_of(Odd()) == (64, 10.0)
    echo = build_echo_application("123:ECHO", "http://127.0.0.1:9", BuilderSettings(4, 5, 6.0))
    assert request_pool_of(echo.bot.request) == (5, 6.0)


def test_mongodb_row_is_skipped_without_a_uri(tmp_path: Path) -> None:
    config = BenchConfig(quick=True, reps=1, mongo_uri="", work_dir=tmp_path)
    result = asyncio.run(mongodb.run(config))
    assert [(r.measured, r.status) for r in result.rows] == [("skipped (no MONGODB_URI)", "info")]
    assert not result.checks and not list(tmp_path.iterdir())  # nothing started
    assert "| skipped (no MONGODB_URI) |" in render_table([result], config, 1.0)


@pytest.mark.slow
async def test_mongodb_row_measures_the_server_at_the_uri(tmp_path: Path) -> None:
    # No mongod here: another embedded server stands in for "a real MongoDB at MONGODB_URI".
    server = await open_database("", "stand_in", tmp_path / "server", init_models=False)
    try:
        assert server.embedded is not None
        config = BenchConfig(quick=True, reps=1, mongo_uri=server.embedded.uri, work_dir=tmp_path / "work")
        result = await mongodb.run(config)
    finally:
        await server.close()
    assert_checks_held(result, "bare updates")
    assert [r.status for r in result.rows] == ["info", "info"]
    assert all("embedded nx-27017:" in r.baseline for r in result.rows)
    assert "127.0.0.1:" in result.rows[0].metric and "ops/s" in result.rows[0].measured


def test_the_table_never_shows_database_credentials() -> None:
    config = BenchConfig(mongo_uri="mongodb://ada:p%40ss@db1:27017,db2/flyo?authSource=admin")
    assert config.database_label == "MongoDB at MONGODB_URI (db1:27017,db2)"
    assert uri_hosts("mongodb+srv://ada:secret@cluster0.example.net/?retryWrites=true") == "cluster0.example.net"
    assert uri_hosts("not a uri") == uri_hosts("") == "hosts unknown"
    assert "secret" not in uri_hosts("mongodb://ada:sec@ret@h:1/x")


@pytest.mark.slow
async def test_search_results_are_consistent(config: BenchConfig, bench_db: None) -> None:
    result = await search.run(config)
    assert_checks_held(result, "results consistent", "searches with results")


@pytest.mark.slow
async def test_connections_respect_every_rule(config: BenchConfig, bench_db: None) -> None:
    result = await connections.run(config)
    assert_checks_held(result, "connections valid", "searches with options")


@pytest.mark.slow
async def test_memory_parks_every_traveller(config: BenchConfig, bench_db: None) -> None:
    result = await memory.run(config)
    assert_checks_held(result, "parked mid-booking")


@pytest.mark.slow  # a benchmark scenario like the others; test_parse_bounds.py checks the bounds too
async def test_parse_answers_every_worst_message(config: BenchConfig, bench_db: None) -> None:
    result = await parse.run(config)
    assert_checks_held(result, "every message answered", "bounded work")


# ---- the plumbing the table relies on -----------------------------------------------------------------
def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0], 99) == 10.0
    assert percentile(list(map(float, range(101))), 99) == 99.0


def test_summary_reports_median_and_spread() -> None:
    s = Summary.of([10.0, 12.0, 11.0])
    assert (s.median, s.low, s.high) == (11.0, 10.0, 12.0)
    assert s.show(" ms") == "11.0 ms (±9%)"


def test_a_failed_check_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    def broken(name: str, config: BenchConfig) -> ScenarioResult:
        result = ScenarioResult(name)
        result.check("double holds", False, "1 double hold")
        result.rows.append(Row(name, "m", "g", "v", "b", "1.0", result.correctness_text(), "pass"))
        return result

    monkeypatch.setattr(cli, "run_scenario", broken)
    out = tmp_path / "RESULTS.md"
    assert cli.main(["--quick", "seat_race", "--output", str(out)]) == 1
    assert "BENCHMARK FAILED" in capsys.readouterr().err
    table = out.read_text()
    assert "| FAIL |" in table and "1 double hold" in table
    assert cli.main(["nonsense"]) == 2


@pytest.mark.slow
async def test_mini_app_polls_get_whole_correct_seat_maps(config: BenchConfig, bench_db: None) -> None:
    from bench import mini_app

    result = await mini_app.run(config)
    assert_checks_held(result, "every poll a whole, correct seat map")


async def test_flood_scenario_checks_the_shared_window(config: BenchConfig, bench_db: None) -> None:
    from bench import flood

    result = await flood.run(config)
    assert_checks_held(result, "below the limit", "flood")
