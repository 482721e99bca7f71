"""Scenario 3 — Stripe webhook: signed `checkout.session.completed` events posted to the running FlyO.

FlyO runs as in production (aiohttp app from `create_web_app`, Stripe and SendGrid clients pointed at the
loopback fakes). Each repetition creates N PENDING bookings with an open Checkout session through the
services (hold → booking → `PaymentService.ensure_link`, i.e. a real session on FakeStripe), completes
the sessions on FakeStripe, and posts the signed events — 30% of the posts are redeliveries of an event
already in the list, shuffled, so some arrive while their original is still being handled — from
`CONCURRENCY` client connections.

Baseline, same run (issue #16): the database floor of a status transition — a bare conditional
`update_one({_id, status: "PENDING"}, {$set: {status: "CONFIRMED"}})` on a scratch collection of the same
database, through the same client (FlyO's AsyncMongoClient, so the same client settings), from the same
`CONCURRENCY` concurrent clients, one operation per post in the same order (a redelivery updates nothing, as
FlyO's answer to it changes nothing); the collection is reset to PENDING before each repetition. Goals:
FlyO's events/s ÷ the bare ops/s ≥ 0.5, and FlyO's response p99 ≤ 2× the bare op's p99.

The route only stores the event (one insert) and answers; the in-process inbox worker applies it. So the rows
also report, per paid event, the end-to-end time from its first POST until the booking is CONFIRMED and its
chat message and e-mail are queued (both outbox rows exist) — p50/p99 under the same load, from the
database's own timestamps (the confirmed history entry, the outbox rows' created_at; millisecond precision)
— and the applied throughput (events/s from the first post until the inbox is idle).

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
from pymongo.asynchronous.collection import AsyncCollection

from bench import common
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
GOAL_RATIO = 0.5  # issue #16: events/s ÷ bare conditional update_one ops/s (same run, same clients)
GOAL_P99_FACTOR = 2.0  # issue #16: response p99 ≤ 2× the bare update_one's p99
FLOOR_COLLECTION = "bench_webhook_floor"  # scratch: one {_id, status} document per distinct event
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
    first_sent: dict[str, float] = field(default_factory=dict)  # event id → wall time (time.time) of its 1st POST
    end_to_end: list[float] = field(default_factory=list)  # per booking: 1st POST → CONFIRMED + both rows queued

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
                result.first_sent.setdefault(post.event_id, time.time())
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


# ---- the baseline: a bare conditional update_one per post ----------------------------------------------
async def reset_floor(floor: AsyncCollection[dict[str, Any]], posts: list[Post]) -> dict[str, int]:
    """One PENDING document per distinct event (the scratch collection emptied first); event id → its _id."""
    keys: dict[str, int] = {}
    for post in posts:
        keys.setdefault(post.event_id, len(keys))
    await floor.delete_many({})
    await floor.insert_many([{"_id": k, "status": "PENDING"} for k in keys.values()])
    return keys


async def floor_all(floor: AsyncCollection[dict[str, Any]], posts: list[Post],
                    concurrency: int = CONCURRENCY) -> Round:
    """The posts' database floor: per post, in list order, one conditional `update_one` PENDING → CONFIRMED
    from `concurrency` concurrent clients; `outcomes["modified"]` counts the transitions made."""
    keys = await reset_floor(floor, posts)
    result = Round(len(posts))
    queue = iter(posts)

    async def worker() -> None:
        for post in queue:  # a shared iterator: each post is taken by exactly one worker
            started = time.perf_counter()
            done = await floor.update_one({"_id": keys[post.event_id], "status": "PENDING"},
                                          {"$set": {"status": "CONFIRMED"}})
            result.latencies.append(time.perf_counter() - started)
            result.outcomes["modified"] += done.modified_count

    result.started = started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


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
                               rng: random.Random) -> tuple[list[Booking], list[str], list[Post]]:
    """N PENDING bookings with open sessions, paid on FakeStripe; each one's event id; the posts to send,
    duplicates included."""
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
    return bookings, [str(e["id"]) for e in events], posts


async def end_to_end_seconds(bookings: list[Booking], event_ids: list[str],
                             first_sent: dict[str, float]) -> list[float]:
    """Per booking: its event's first POST → the booking CONFIRMED and its confirmation chat message and e-mail
    queued, the last of the three read from the database's timestamps (the booking's `confirmed_ms`, the outbox
    rows' created_at). A booking missing any of them is left out (the correctness checks report it)."""
    ids = [str(b.id) for b in bookings]
    confirmed = {str(b.id): datetime.fromtimestamp(b.confirmed_ms / 1000, UTC) for b in await Booking.find(
        {"_id": {"$in": [b.id for b in bookings]}}).to_list() if b.confirmed_ms is not None}
    keys = [f"confirm-{channel}:{i}" for i in ids for channel in ("chat", "email")]
    queued = {n.key: _utc(n.created_at) for n in await Notification.find({"key": {"$in": keys}}).to_list()}
    samples: list[float] = []
    for booking_id, event_id in zip(ids, event_ids, strict=True):
        moments = [confirmed.get(booking_id), queued.get(f"confirm-chat:{booking_id}"),
                   queued.get(f"confirm-email:{booking_id}")]
        sent = first_sent.get(event_id)
        if sent is None or any(m is None for m in moments):
            continue
        done = max(m.timestamp() for m in moments if m is not None)
        samples.append(max(0.0, done - sent))  # the database keeps milliseconds: never below zero
    return samples


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
    # Confirmed once: paid once (`confirmed_ms`, the history's "confirmed" entry) and no stored "confirmed"
    # event besides it (BookingRepo.history).
    stored = Counter(e.booking_id for e in await BookingEvent.find(
        {"booking_id": {"$in": [str(i) for i in ids]}, "kind": "confirmed"}).to_list())
    once = sum(1 for b in fresh if b.confirmed_ms is not None and stored[str(b.id)] == 0)
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
async def _rep(bot: RunningBot, stripe: FakeStripe, sendgrid: FakeSendGrid, floor: AsyncCollection[dict[str, Any]],
               user_ids: list[int], rng: random.Random, result: common.ScenarioResult | None,
               concurrency: int = CONCURRENCY) -> tuple[Round, Round]:
    await common.clear_state()
    sendgrid.messages.clear()
    bot.telegram.calls.clear()
    bookings, event_ids, posts = await create_paid_sessions(bot.services, stripe, bot.telegram, user_ids, rng)
    base = await floor_all(floor, posts, concurrency)
    with common.CpuMeter(bot.services.database) as cpu:
        flyo = await post_all(f"{bot.url}/webhooks/stripe", posts, concurrency)
        await process_inbox(bot.services, timeout=DRAIN_TIMEOUT)  # alongside the worker, until idle
        flyo.applied_seconds = time.perf_counter() - flyo.started
    flyo.cpu = cpu
    await drain_outbox(bot.services)
    flyo.end_to_end = await end_to_end_seconds(bookings, event_ids, flyo.first_sent)
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
            floor: AsyncCollection[dict[str, Any]] = database.db[FLOOR_COLLECTION]
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
                        f, b = await _rep(bot, stripe, sendgrid, floor, ids, rng, result if rep else None)
                        if rep:
                            flyo.append(f)
                            base.append(b)
                            common.progress(f"{NAME}: rep {rep}: FlyO {f.per_second:.0f} events/s p99 "
                                     f"{f.latency.p99:.1f} ms; bare update_one {b.per_second:.0f} ops/s p99 "
                                     f"{b.latency.p99:.1f} ms")
                    # The service time: the same posts one at a time, nothing else in flight.
                    ids = list(range(FIRST_USER_ID + 900_000, FIRST_USER_ID + 900_000 + SOLO))
                    solo, solo_base = await _rep(bot, stripe, sendgrid, floor, ids, rng, result, concurrency=1)
            finally:
                await floor.drop()
    _rows(result, n, flyo, base, solo, solo_base)
    return result


def _rows(result: common.ScenarioResult, n: int, flyo: list[Round], base: list[Round], solo: Round,
          solo_base: Round) -> None:
    eps, beps = common.summarise(flyo, lambda r: r.per_second), common.summarise(base, lambda r: r.per_second)
    ratios = common.summarise(range(len(flyo)), lambda i: common.ratio(flyo[i].per_second, base[i].per_second))
    correctness = result.correctness_text()
    posts = flyo[0].posts
    result.rows.append(common.Row(
        NAME, f"events/s ÷ bare conditional update_one ops/s, {posts} signed events ({posts - n} redeliveries), "
              f"{CONCURRENCY} clients",
        f"ratio ≥ {GOAL_RATIO}", eps.show(" events/s", 0), f"bare update_one: {beps.show(' ops/s', 0)}",
        f"{ratios.median:.2f} (±{ratios.spread_pct / 2:.0f}%)", correctness,
        common.status_for(ratios.median >= GOAL_RATIO),
    ))
    p99, p50 = common.summarise(flyo, lambda r: r.latency.p99), common.summarise(flyo, lambda r: r.latency.p50)
    b99, b50 = common.summarise(base, lambda r: r.latency.p99), common.summarise(base, lambda r: r.latency.p50)
    p99_ratios = common.summarise(range(len(flyo)),
                                  lambda i: common.ratio(flyo[i].latency.p99, base[i].latency.p99))
    result.rows.append(common.Row(
        NAME, "response time p99 (p50) ÷ bare update_one p99", f"p99 ≤ {GOAL_P99_FACTOR:.0f}× the bare op's p99",
        f"{p99.show(' ms')} ({common.fmt(p50.median)} ms)",
        f"bare update_one: {b99.show(' ms')} ({common.fmt(b50.median)} ms)",
        f"p99 ×{p99_ratios.median:.2f} (±{p99_ratios.spread_pct / 2:.0f}%)",
        correctness, common.status_for(p99_ratios.median <= GOAL_P99_FACTOR),
    ))
    e2e = [common.Latency.of_seconds(r.end_to_end) for r in flyo]
    e50, e99 = common.Summary.of(e.p50 for e in e2e), common.Summary.of(e.p99 for e in e2e)
    measured = min(e.count for e in e2e)
    result.rows.append(common.Row(
        NAME, "end to end under the same load: paid event's 1st POST → CONFIRMED + chat message + e-mail queued, "
              "p99 (p50)", "report",
        f"{e99.show(' ms')} ({common.fmt(e50.median)} ms)", "—", "—", correctness, "info",
    ))
    applied = common.summarise(flyo, lambda r: r.posts / r.applied_seconds)
    result.rows.append(common.Row(
        NAME, "applied end to end (first post → inbox idle: booking, seats, outbox rows)", "report",
        applied.show(" events/s", 0), "—", "—", correctness, "info",
    ))
    outcomes = sum((r.outcomes for r in flyo), Counter())
    modified = [r.outcomes["modified"] for r in base]
    solo_e2e = common.Latency.of_seconds(solo.end_to_end)
    result.notes.append(f"one connection, nothing else in flight ({solo.posts} posts): "
                        f"p50 {common.fmt(solo.latency.p50)} ms, "
                        f"p99 {common.fmt(solo.latency.p99)} ms — the service time (bare update_one alone: p50 "
                        f"{common.fmt(solo_base.latency.p50, 2)} ms, p99 {common.fmt(solo_base.latency.p99, 2)} ms; "
                        f"end to end alone: p50 {common.fmt(solo_e2e.p50)} ms, p99 {common.fmt(solo_e2e.p99)} ms); "
                        f"the rows above add {CONCURRENCY}-way queueing at the database.")
    result.notes.append(f"the bare baseline: one conditional update_one per post on the scratch collection "
                        f"`{FLOOR_COLLECTION}` of the same database through FlyO's own client, reset to PENDING "
                        f"before each repetition; it made {'/'.join(str(m) for m in modified)} transitions for "
                        f"{n} distinct events (the redeliveries matched nothing). End to end was measured for "
                        f"{measured}/{n} bookings in every repetition (timestamps kept to the millisecond).")
    result.notes.append(common.cpu_note([r.cpu for r in flyo if r.cpu is not None], "FlyO's posting"))
    result.notes.append("FlyO's answers over all repetitions: " + ", ".join(f"{k} {v}" for k, v in
                                                                          outcomes.most_common()) + ".")
