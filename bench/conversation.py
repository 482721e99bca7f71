"""Scenario 1 — conversation throughput: N travellers book at once through the real Application.

Each traveller runs the tests' booking script (one-line search → first economy fare → pick seats for me →
continue → passenger details → review) and then confirms, which creates the PENDING booking and sends
the Stripe Checkout link (FlyO's real StripeGateway against the loopback FakeStripe). Everything runs in
this process: the fake Bot API, the travellers, FlyO (aiohttp app + PTB Application, polling), and the
fake Stripe; the database is the product's (embedded nx-27017 child process, or MONGODB_URI).

Baseline, same run and same process: a bare python-telegram-bot echo bot on PTB's default Bot API client
(`HTTPXRequest`, built explicitly — it does not follow FlyO's own client), with FlyO's `concurrent_updates`
and Bot API pool size / pool timeout read from the running Application (no rate limiter), driven by the
same number of travellers each sending as many updates as one booking takes. Goal (issue #16): FlyO's
updates/s ÷ the echo bot's ≥ 0.6. Repetitions alternate echo and FlyO so slow drift on a shared machine
hits both alike.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from bench import common
from bench.load import (
    BuilderSettings,
    TimedTraveller,
    builder_settings_of,
    busy_routes,
    echo_script,
    run_together,
    running_echo_bot,
)
from core.clock import Clock
from core.database import Database
from models import Booking
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import BotMessage, FakeTelegram
from tests.flows import book_to_review
from tests.harness import running_bot

NAME = "conversation"
GOAL_RATIO = 0.6  # issue #16: updates/s ÷ the bare PTB echo bot (default HTTPXRequest)
WEBHOOK_SECRET = "whsec_flyo_bench"
FIRST_USER_ID = 7_000_000  # far from the ids tests use; each round takes a fresh block


@dataclass(frozen=True)
class Round:
    """One repetition of one bot: N travellers from start to the last answer."""

    travellers: int
    updates: int
    seconds: float
    latency: common.Latency
    cpu: common.CpuMeter
    api_calls: int = 0  # Bot API requests other than getUpdates (answers, edits, sends)

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds

    @property
    def per_traveller_per_s(self) -> float:
        return self.travellers / self.seconds


def _has_payment_link(message: BotMessage) -> bool:
    return any(b.url for row in message.buttons for b in row)


async def _book(t: TimedTraveller, clock: Clock, route: tuple[str, str], days_ahead: int) -> None:
    await book_to_review(t, clock, pax=1, origin=route[0], destination=route[1], days_ahead=days_ahead)
    await t.press("Confirm and pay")
    await t.wait_for(_has_payment_link)


class _Ids:
    def __init__(self) -> None:
        self.next = FIRST_USER_ID

    def take(self, n: int) -> list[int]:
        block = list(range(self.next, self.next + n))
        self.next += n
        return block


async def flyo_round(database: Database, data_dir: Path, stripe: FakeStripe, ids: _Ids, n: int,
                     result: common.ScenarioResult | None) -> tuple[Round, BuilderSettings]:
    """N bookings through FlyO; returns the round and how bot/app.py built the Application."""
    routes = busy_routes()
    samples: list[float] = []
    await common.clear_state()
    async with FakeTelegram() as telegram, running_bot(
        database, telegram, data_dir, TELEGRAM_RATE_LIMIT=False,
        STRIPE_SECRET_KEY="sk_test_flyo_bench", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_URL=stripe.url,
    ) as bot:
        like = builder_settings_of(bot.application)
        travellers = [TimedTraveller(telegram.traveller(uid, first_name="Ada"), samples) for uid in ids.take(n)]

        async def script(t: TimedTraveller) -> None:
            i = t.user_id - FIRST_USER_ID
            await _book(t, bot.clock, routes[i % len(routes)], 3 + (i // len(routes)) % 25)

        with common.CpuMeter(database) as cpu:
            seconds = await run_together(travellers, script)
        updates = sum(t.updates for t in travellers)
        if result is not None:
            await _check_bookings(result, [t.user_id for t in travellers])
        calls = _api_calls(telegram)
    return Round(n, updates, seconds, common.Latency.of_seconds(samples), cpu, calls), like


def _api_calls(telegram: FakeTelegram) -> int:
    return sum(1 for call in telegram.calls if call.method.lower() != "getupdates")


async def _check_bookings(result: common.ScenarioResult, user_ids: list[int]) -> None:
    bookings = await Booking.find({"user_id": {"$in": user_ids}}).to_list()
    with_link = sum(1 for b in bookings if b.payment.status == "open" and b.payment.url)
    seats = [(s.flight.flight_id, seat) for b in bookings for s in b.segments for seat in s.seats]
    doubles = len(seats) - len(set(seats))
    result.check("payment links", len(bookings) == len(user_ids) == with_link,
                 f"{with_link}/{len(user_ids)} bookings PENDING with a payment link")
    result.check("double-booked seats", doubles == 0, f"{doubles} seats in two bookings")


async def echo_round(ids: _Ids, n: int, updates_each: int, like: BuilderSettings) -> Round:
    samples: list[float] = []
    async with FakeTelegram() as telegram, running_echo_bot(telegram, like):
        travellers = [TimedTraveller(telegram.traveller(uid), samples) for uid in ids.take(n)]
        with common.CpuMeter(None) as cpu:
            seconds = await run_together(travellers, lambda t: echo_script(t, updates_each))
        updates = sum(t.updates for t in travellers)
        calls = _api_calls(telegram)
    return Round(n, updates, seconds, common.Latency.of_seconds(samples), cpu, calls)


async def run(config: common.BenchConfig) -> common.ScenarioResult:
    result = common.ScenarioResult(NAME)
    n = config.size(200, 12)
    warm = config.size(20, 4)
    ids = _Ids()
    with common.scratch_dir(config, NAME) as data_dir:
        common.quiet_product_logging(data_dir)
        async with common.bench_database(config, data_dir) as database, FakeStripe() as stripe:
            await common.ensure_small_inventory()
            common.progress(f"{NAME}: warm-up ({warm} travellers each)")
            warm_flyo, like = await flyo_round(database, data_dir, stripe, ids, warm, None)
            updates_each = round(warm_flyo.updates / warm_flyo.travellers)
            await echo_round(ids, warm, updates_each, like)
            solo, _ = await flyo_round(database, data_dir, stripe, ids, 1, None)
            flyo: list[Round] = []
            echo: list[Round] = []
            for rep in range(config.reps):
                started = time.perf_counter()
                echo.append(await echo_round(ids, n, updates_each, like))
                flyo_rep, _ = await flyo_round(database, data_dir, stripe, ids, n, result)
                flyo.append(flyo_rep)
                common.progress(f"{NAME}: rep {rep + 1}/{config.reps}: FlyO {flyo_rep.updates_per_s:.0f} upd/s, "
                         f"echo {echo[-1].updates_per_s:.0f} upd/s ({time.perf_counter() - started:.0f} s)")
    _rows(result, n, flyo, echo, like, updates_each, solo)
    return result


def _rows(result: common.ScenarioResult, n: int, flyo: list[Round], echo: list[Round], like: BuilderSettings,
          updates_each: int, solo: Round) -> None:
    ups, eups = common.summarise(flyo, lambda r: r.updates_per_s), common.summarise(echo, lambda r: r.updates_per_s)
    bps = common.summarise(flyo, lambda r: r.per_traveller_per_s)
    ratios = common.summarise(range(len(flyo)), lambda i: common.ratio(flyo[i].updates_per_s, echo[i].updates_per_s))
    correctness = result.correctness_text()
    result.rows.append(common.Row(
        NAME, f"updates/s ÷ bare PTB echo bot (default HTTPXRequest), {n} travellers at once "
              f"({updates_each} updates per booking)",
        f"ratio ≥ {GOAL_RATIO}",
        f"{ups.show(' upd/s', 0)}; {bps.show(' bookings/s', 2)}",
        f"echo bot (HTTPXRequest) {eups.show(' upd/s', 0)}",
        f"{ratios.median:.2f} (±{ratios.spread_pct / 2:.0f}%)",
        correctness, common.status_for(ratios.median >= GOAL_RATIO),
    ))
    p = {k: common.summarise(flyo, attrgetter(f"latency.{k}")) for k in ("p50", "p95", "p99")}
    e = {k: common.summarise(echo, attrgetter(f"latency.{k}")) for k in ("p50", "p95", "p99")}
    result.rows.append(common.Row(
        NAME, "per-update latency p50 / p95 / p99 (under the same load)", "report",
        " / ".join(common.fmt(p[k].median, 0) for k in p) + " ms",
        "echo " + " / ".join(common.fmt(e[k].median, 0) for k in e) + " ms",
        f"p99 ×{common.ratio(p['p99'].median, e['p99'].median):.1f}",
        correctness, "info",
    ))
    result.notes.append(
        f"{n} travellers run a closed loop (each sends its next update as soon as it has the answer), so the "
        f"latency under load is ≈ {n} ÷ throughput; one traveller alone sees p50 {common.fmt(solo.latency.p50, 0)} ms, "
        f"p99 {common.fmt(solo.latency.p99, 0)} ms per update (the service time). Both bots run with "
        f"{like}, no AIORateLimiter (TELEGRAM_RATE_LIMIT=false; the product's limiter would cap "
        f"replies at 30 msg/s); FlyO calls the Bot API through its {like.client or 'own client'}, the echo "
        "bot through PTB's default HTTPXRequest."
    )
    per_update = [r.api_calls / r.updates for r in flyo if r.updates]
    echo_per_update = [r.api_calls / r.updates for r in echo if r.updates]
    if per_update and echo_per_update:
        result.notes.append(
            f"Bot API requests per update (getUpdates aside): FlyO {statistics.median(per_update):.2f}, the echo bot "
            f"{statistics.median(echo_per_update):.2f} — a button press is answered (answerCallbackQuery) and its "
            "message edited, two requests where the echo bot sends one; the fake Bot API serving them runs in this "
            "process too.")
    result.notes.append(common.cpu_note([r.cpu for r in flyo], "the FlyO runs") + " " +
                        common.cpu_note([r.cpu for r in echo], "the echo runs"))
