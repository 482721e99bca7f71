"""Scenario 3 — Stripe webhook: signed `checkout.session.completed` events posted to the running FlyO.

FlyO runs as in production (aiohttp app from `create_web_app`, Stripe and SendGrid clients pointed at the
loopback fakes). Each repetition creates N PENDING bookings with an open Checkout session through the
services (hold → booking → `PaymentService.ensure_link`, i.e. a real session on FakeStripe), completes
the sessions on FakeStripe, and posts the signed events — 30% of the posts are redeliveries of an event
already in the list, shuffled, so some arrive while their original is still being handled — from
`CONCURRENCY` client connections.

Baseline, same run, same client, same bodies and signatures: a bare aiohttp handler that reads the body
and answers 200.

The route only stores the event (one insert) and answers; the in-process inbox worker applies it. So two
throughputs: answered (posts/s at the route) and applied (events/s from the first post until the inbox is idle).

Correctness (fails the run): every post answered 200; every booking CONFIRMED by exactly one event
(one "confirmed" history entry); exactly one confirmation e-mail per booking at the SendGrid fake and
exactly one confirmation message in its chat at the Telegram fake, once the outbox has drained.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bench import common
from bot.db import free_port
from models import AircraftType, Booking, BookingEvent, BookingStatus, Flight, Notification, Passenger
from models.ops import WebhookEvent
from services.bookings import NewBooking, NewSegment
from services.context import Services
from services.seats import chat_holder
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.stripe import FakeStripe, build_event, sign_payload
from tests.fakes.telegram import FakeTelegram
from tests.harness import RunningBot, running_bot
from tests.paying import process_inbox

NAME = "webhook"
WEBHOOK_SECRET = "whsec_flyo_bench_webhook"
DUPLICATE_SHARE = 0.30
CONCURRENCY = 8  # Stripe delivers events of one endpoint in parallel; 8 connections in flight at most
GOAL_RATIO = 0.3
GOAL_P99_MS = 20.0
FIRST_USER_ID = 8_000_000
CABIN = "economy"
DRAIN_TIMEOUT = 60.0
SOLO = 30  # bookings for the one-connection pass


@dataclass(frozen=True)
class Post:
    event_id: str
    body: bytes
    signature: str


@dataclass
class Round:
    posts: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    cpu: common.CpuMeter | None = None
    applied_seconds: float = 0.0  # first post → inbox idle (every event applied)
    started: float = 0.0

    @property
    def per_second(self) -> float:
        return self.posts / self.seconds

    @property
    def latency(self) -> common.Latency:
        return common.Latency.of_seconds(self.latencies)


async def post_all(url: str, posts: list[Post], concurrency: int = CONCURRENCY) -> Round:
    """Post every event over `concurrency` keep-alive connections, in list order; time each answer."""
    result = Round(len(posts))
    queue = iter(posts)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def worker() -> None:
            for post in queue:  # a shared iterator: each post is taken by exactly one worker
                headers = {"Content-Type": "application/json", "Stripe-Signature": post.signature}
                started = time.perf_counter()
                async with client.post(url, data=post.body, headers=headers) as response:
                    body = await response.read()
                result.latencies.append(time.perf_counter() - started)
                result.statuses[response.status] += 1
                if body[:1] == b"{":
                    answer = json.loads(body)
                    said = "duplicate" if answer.get("duplicate") else str(answer.get("outcome", "stored"))
                    result.outcomes[said] += 1

        result.started = started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


async def _bare_handler(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"received": True})


async def start_baseline() -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/webhooks/stripe", _bare_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/webhooks/stripe"


# ---- bookings with open Checkout sessions ------------------------------------------------------------
async def _seat_plan(n: int) -> list[tuple[Flight, str]]:
    """N distinct (flight, seat) pairs spread over many flights, from the seeded inventory."""
    # Flights from tomorrow on: today's may be departed or inside the booking cut-off.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    flights = await Flight.find({"source": "local", "departs_at": {"$gte": tomorrow}}).sort("departs_at") \
        .limit(max(1, n // 20 + 1)).to_list()
    layouts = {a.code: a.cabin(CABIN) for a in await AircraftType.find_all().to_list()}
    plan: list[tuple[Flight, str]] = []
    for flight in flights:
        layout = layouts.get(flight.aircraft)
        plan += [(flight, seat) for seat in (layout.seat_codes() if layout else [])[:20]]
    if len(plan) < n:
        raise RuntimeError(f"the inventory offers {len(plan)} seats for {n} bookings")
    return plan[:n]


async def create_paid_sessions(svc: Services, stripe: FakeStripe, telegram: FakeTelegram, user_ids: list[int],
                               rng: random.Random) -> tuple[list[Booking], list[Post]]:
    """N PENDING bookings with open sessions, paid on FakeStripe; the posts to send, duplicates included."""
    assert svc.payments is not None, "payments are not configured"
    plan = await _seat_plan(len(user_ids))
    passenger = Passenger(full_name="Ada Lovelace", birth_date=date(1990, 12, 10), email="ada@example.com")
    limiter = asyncio.Semaphore(8)

    async def one(uid: int, flight: Flight, seat: str) -> tuple[Booking, dict[str, Any]]:
        async with limiter:
            telegram.traveller(uid)  # opens the chat the confirmation will be sent to
            holder = chat_holder(uid)
            await svc.seats.hold(str(flight.id), seat, holder, CABIN)
            booking = await svc.bookings.create(NewBooking(
                user_id=uid, chat_id=uid, segments=[NewSegment(flight, CABIN, [seat], flight.fares[CABIN])],
                passengers=[passenger], email="ada@example.com", draft_key=f"{uid}:bench"), holder)
            assert svc.payments is not None
            link = await svc.payments.ensure_link(booking)
            session_id = link.booking.payment.session_id
            assert session_id, "no Checkout session was created"
            return link.booking, build_event("checkout.session.completed", stripe.complete_session(session_id))

    made = await asyncio.gather(*(one(uid, f, s) for uid, (f, s) in zip(user_ids, plan, strict=True)))
    bookings = [b for b, _ in made]
    events = [e for _, e in made]
    total = round(len(events) / (1 - DUPLICATE_SHARE))
    redelivered = rng.sample(events, total - len(events)) if total - len(events) <= len(events) else \
        [rng.choice(events) for _ in range(total - len(events))]
    posts = []
    for event in events + redelivered:
        body = json.dumps(event).encode()
        posts.append(Post(str(event["id"]), body, sign_payload(body, WEBHOOK_SECRET)))
    rng.shuffle(posts)
    return bookings, posts


# ---- correctness ----------------------------------------------------------------------------------------
async def drain_outbox(svc: Services, timeout: float = DRAIN_TIMEOUT) -> None:  # noqa: ASYNC109
    """Wait until the notification pump has sent everything (and give a late duplicate a chance to show)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = await Notification.find({"status": {"$in": ["pending", "sending"]}}).count()
        if left == 0:
            await svc.notifications.deliver_due()
            await asyncio.sleep(0.3)
            return
        svc.notifications.kick()
        await asyncio.sleep(0.1)
    raise AssertionError(f"the outbox did not drain within {timeout:.0f} s")


async def check_round(result: common.ScenarioResult, flyo: Round, bookings: list[Booking], sendgrid: FakeSendGrid,
                      telegram: FakeTelegram) -> None:
    non_200 = flyo.posts - flyo.statuses[200]
    result.check("answered 200", non_200 == 0, f"{flyo.posts - non_200}/{flyo.posts} posts answered 200")
    ids = [b.id for b in bookings]
    fresh = await Booking.find({"_id": {"$in": ids}}).to_list()
    confirmed = sum(1 for b in fresh if b.status == BookingStatus.CONFIRMED)
    history = Counter(e.booking_id for e in await BookingEvent.find(
        {"booking_id": {"$in": [str(i) for i in ids]}, "kind": "confirmed"}).to_list())
    once = sum(1 for b in bookings if history[str(b.id)] == 1)
    applied = Counter(e.outcome for e in await WebhookEvent.find({}).to_list())
    result.check("confirmed once", confirmed == once == len(bookings) and applied["confirmed"] == len(bookings),
                 f"{once}/{len(bookings)} bookings CONFIRMED exactly once")
    mails = Counter(m.custom_args.get("flyo_key", "") for m in sendgrid.messages)
    one_mail = sum(1 for b in bookings if mails[f"confirm-email:{b.id}"] == 1)
    extra = sum(n - 1 for n in mails.values() if n > 1)
    result.check("one e-mail", one_mail == len(bookings) and extra == 0,
                 f"{one_mail}/{len(bookings)} with exactly one e-mail ({extra} duplicate e-mails)")
    chats = Counter(int(c.params.get("chat_id", 0)) for c in telegram.calls_of("sendMessage") if c.error_code is None)
    one_chat = sum(1 for b in bookings if chats[b.chat_id] == 1)
    result.check("one chat confirmation", one_chat == len(bookings),
                 f"{one_chat}/{len(bookings)} with exactly one chat confirmation")


# ---- the scenario ----------------------------------------------------------------------------------------
async def _rep(bot: RunningBot, stripe: FakeStripe, sendgrid: FakeSendGrid, base_url: str, user_ids: list[int],
               rng: random.Random, result: common.ScenarioResult | None,
               concurrency: int = CONCURRENCY) -> tuple[Round, Round]:
    await common.clear_state()
    sendgrid.messages.clear()
    bot.telegram.calls.clear()
    bookings, posts = await create_paid_sessions(bot.services, stripe, bot.telegram, user_ids, rng)
    base = await post_all(base_url, posts, concurrency)
    with common.CpuMeter(bot.services.database) as cpu:
        flyo = await post_all(f"{bot.url}/webhooks/stripe", posts, concurrency)
        await process_inbox(bot.services, timeout=DRAIN_TIMEOUT)  # alongside the worker, until idle
        flyo.applied_seconds = time.perf_counter() - flyo.started
    flyo.cpu = cpu
    await drain_outbox(bot.services)
    if result is not None:
        await check_round(result, flyo, bookings, sendgrid, bot.telegram)
    return flyo, base


async def run(config: common.BenchConfig) -> common.ScenarioResult:
    result = common.ScenarioResult(NAME)
    n = config.size(200, 20)
    rng = random.Random(7)
    flyo: list[Round] = []
    base: list[Round] = []
    with common.scratch_dir(config, NAME) as data_dir:
        common.quiet_product_logging(data_dir)
        async with common.bench_database(config, data_dir) as database, FakeStripe() as stripe, \
                FakeSendGrid() as sendgrid, FakeTelegram() as telegram:
            await common.ensure_small_inventory()
            baseline, base_url = await start_baseline()
            try:
                async with running_bot(
                    database, telegram, data_dir, TELEGRAM_RATE_LIMIT=False,
                    STRIPE_SECRET_KEY="sk_test_flyo_bench", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                    STRIPE_API_URL=stripe.url, SENDGRID_API_KEY="SG.flyo-bench", SENDGRID_API_URL=sendgrid.url,
                    EMAIL_FROM="tickets@flyo.test",
                ) as bot:
                    common.progress(f"{NAME}: warm-up, then {config.reps} × {n} bookings "
                             f"({round(n / (1 - DUPLICATE_SHARE))} posts each)")
                    for rep in range(config.reps + 1):  # rep 0 is the warm-up
                        size = n if rep else max(5, n // 10)
                        ids = list(range(FIRST_USER_ID + rep * 100_000, FIRST_USER_ID + rep * 100_000 + size))
                        f, b = await _rep(bot, stripe, sendgrid, base_url, ids, rng, result if rep else None)
                        if rep:
                            flyo.append(f)
                            base.append(b)
                            common.progress(f"{NAME}: rep {rep}: FlyO {f.per_second:.0f} events/s p99 "
                                     f"{f.latency.p99:.1f} ms; bare {b.per_second:.0f} events/s")
                    # The service time: the same posts one at a time, nothing else in flight.
                    ids = list(range(FIRST_USER_ID + 900_000, FIRST_USER_ID + 900_000 + SOLO))
                    solo, _ = await _rep(bot, stripe, sendgrid, base_url, ids, rng, result, concurrency=1)
            finally:
                await baseline.cleanup()
    _rows(result, n, flyo, base, solo)
    return result


def _rows(result: common.ScenarioResult, n: int, flyo: list[Round], base: list[Round], solo: Round) -> None:
    eps, beps = common.summarise(flyo, lambda r: r.per_second), common.summarise(base, lambda r: r.per_second)
    ratios = common.summarise(range(len(flyo)), lambda i: common.ratio(flyo[i].per_second, base[i].per_second))
    correctness = result.correctness_text()
    posts = flyo[0].posts
    result.rows.append(common.Row(
        NAME, f"throughput, {posts} signed events ({posts - n} redeliveries), {CONCURRENCY} connections",
        f"ratio ≥ {GOAL_RATIO}", eps.show(" events/s", 0), f"bare aiohttp 200: {beps.show(' events/s', 0)}",
        f"{ratios.median:.2f} (±{ratios.spread_pct / 2:.0f}%)", correctness,
        common.status_for(ratios.median >= GOAL_RATIO),
    ))
    applied = common.summarise(flyo, lambda r: r.posts / r.applied_seconds)
    result.rows.append(common.Row(
        NAME, "applied end to end (first post → inbox idle: booking, seats, outbox rows)", "report",
        applied.show(" events/s", 0), "—", "—", correctness, "info",
    ))
    p99, p50 = common.summarise(flyo, lambda r: r.latency.p99), common.summarise(flyo, lambda r: r.latency.p50)
    b99, b50 = common.summarise(base, lambda r: r.latency.p99), common.summarise(base, lambda r: r.latency.p50)
    result.rows.append(common.Row(
        NAME, "response time p99 (p50)", f"p99 < {GOAL_P99_MS:.0f} ms",
        f"{p99.show(' ms')} ({common.fmt(p50.median)} ms)",
        f"bare: {b99.show(' ms')} ({common.fmt(b50.median)} ms)", f"p99 ×{common.ratio(p99.median, b99.median):.1f}",
        correctness, common.status_for(p99.median < GOAL_P99_MS),
    ))
    outcomes = sum((r.outcomes for r in flyo), Counter())
    result.notes.append(f"one connection, nothing else in flight ({solo.posts} posts): "
                        f"p50 {common.fmt(solo.latency.p50)} ms, "
                        f"p99 {common.fmt(solo.latency.p99)} ms — the service time; the rows above add "
                        f"{CONCURRENCY}-way queueing at the database.")
    result.notes.append(common.cpu_note([r.cpu for r in flyo if r.cpu is not None], "FlyO's posting"))
    result.notes.append("FlyO's answers over all repetitions: " + ", ".join(f"{k} {v}" for k, v in
                                                                          outcomes.most_common()) + ".")
