"""Three replicas behind a proxy, one killed (issue #21, part 2): three real `python -m bot` processes in webhook
mode on one database, behind a round-robin proxy (tests/ops/proxy.py) that Telegram (the fake) delivers every
update to. 100 travellers book at once — search, fare, seats picked for them, a passenger, review, "Confirm and
pay" — while one replica is killed with SIGKILL a third of the way through and started again.

Every traveller must end with exactly one PENDING booking and one payment link; no seat may be in two bookings;
no update may show its effect twice (a second link, a second booking); a traveller holding two unpaid bookings is
refused a third although their updates reached all three replicas; and a user flooding the bot is held to one
limit across the replicas, not three."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.db import free_port
from core.clock import Clock
from core.database import Database
from handlers.ops import FLOOD_WARNING
from models import Booking, BookingStatus, SeatHold
from models.telegram_update import TelegramUpdateRow
from tests.children import healthy, start_flyo
from tests.fakes.stripe import FakeStripe
from tests.flows import book_to_review, eventually
from tests.ops.proxy import round_robin
from tests.ops.test_telegram_webhook import SECRET
from tests.paying import WEBHOOK_SECRET

pytestmark = pytest.mark.slow  # three `python -m bot` child processes, one of them killed and started again
CROWD = 100
REPLICAS = 3
STEP = 120.0  # seconds one step may take: 300 updates at once on two busy cores, or one waiting out a dead lease
FLOOD_LIMIT = 30
HELP = "books flights right here"


def is_payment_link(message: Any) -> bool:
    return any((b.url or "").startswith("https://checkout.stripe.com/") for row in message.buttons for b in row)


async def book(t: Any, days_ahead: int, last: str | Callable[[Any], bool] = is_payment_link) -> None:
    """tests/flows.py's traveller, with long waits, then "Confirm and pay" and `last` (the payment link)."""
    await book_to_review(t, Clock(), days_ahead=days_ahead, timeout=STEP)
    await t.press("Confirm and pay")
    await t.wait_for(last, timeout=STEP)


async def test_three_replicas_behind_a_proxy_one_killed_and_restarted(
        inventory_db: Database, telegram: Any, mongo_uri: str, tmp_path: Path) -> None:
    telegram.strict_chats = False
    telegram.webhook_retries = 8  # Telegram keeps delivering an update its webhook failed (here ~25 s of tries)
    telegram.flood_limit = 30  # Telegram's ~30 messages a second per bot, shared by the three (TELEGRAM_SEND_RATE)
    days = (8, 9, 10, 11)  # days ahead: four flights, 25 travellers each
    crowd = [telegram.traveller(840_000 + i) for i in range(CROWD)]
    greedy, flooder = telegram.traveller(841_000), telegram.traveller(841_001)
    ports = [free_port() for _ in range(REPLICAS)]
    processes: list[subprocess.Popen[bytes] | None] = [None] * REPLICAS

    async with FakeStripe() as stripe, round_robin([f"http://127.0.0.1:{p}" for p in ports]) as (proxy, url):
        def start(i: int) -> subprocess.Popen[bytes]:
            return start_flyo(telegram, mongo_uri, inventory_db.db.name, tmp_path / f"data{i}", ports[i],
                              TELEGRAM_WEBHOOK_URL=f"{url}/webhooks/telegram", TELEGRAM_WEBHOOK_SECRET=SECRET,
                              TELEGRAM_UPDATE_LEASE_SECONDS="5", SWEEP_INTERVAL_SECONDS="1",
                              FLOOD_MAX_UPDATES=str(FLOOD_LIMIT), TELEGRAM_SEND_RATE="9",  # a little under a third each
                              STRIPE_SECRET_KEY="sk_test_flyo",
                              STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_URL=stripe.url)
            # No PUBLIC_URL: the webhook's origin (the proxy) is every replica's public address, so a replica finishing
            # another's payment link asks Stripe for the same return URLs under the same idempotency key.

        try:
            for i in range(REPLICAS):
                processes[i] = start(i)
            for port in ports:
                await eventually(lambda port=port: healthy(f"http://127.0.0.1:{port}"), timeout=90, interval=0.2)
            await eventually(lambda: _true(telegram.webhook_url == f"{url}/webhooks/telegram"), timeout=30)

            started = time.monotonic()
            links = lambda: sum(any(is_payment_link(m) for m in t.messages()) for t in crowd)  # noqa: E731
            crowd_run = asyncio.gather(*(book(t, days[i % len(days)]) for i, t in enumerate(crowd)),
                                       _greedy(greedy, days[0]), return_exceptions=True)
            runner = asyncio.ensure_future(crowd_run)

            async def a_third_booked() -> bool:
                return links() >= CROWD // 3 or runner.done()
            await eventually(a_third_booked, timeout=600, interval=0.05)
            victim = processes[1]
            assert victim is not None
            victim.send_signal(signal.SIGKILL)
            await asyncio.to_thread(victim.wait, 10)
            killed_at, links_at_kill = time.monotonic() - started, links()
            in_flight_at_kill = await TelegramUpdateRow.find({"done": False}).count()
            served_before = proxy.served[f"http://127.0.0.1:{ports[1]}"]
            processes[1] = start(1)  # the orchestrator restarts it
            await eventually(lambda: healthy(f"http://127.0.0.1:{ports[1]}"), timeout=90, interval=0.2)
            restarted_at = time.monotonic() - started

            outcomes = await runner
            elapsed = time.monotonic() - started
            failures = [(t.user_id, repr(o)[:300]) for t, o in zip([*crowd, greedy], outcomes, strict=True)
                        if isinstance(o, BaseException)]
            assert not failures, f"{len(failures)} travellers did not get through: {failures[:5]}"
            assert links_at_kill < CROWD, "everyone had booked before the kill: nothing was tested"

            # Flood control across replicas: 70 /help at once reach all three; one limit holds, one notice.
            flood_ids = [(await flooder.send("/help"))["update_id"] for _ in range(70)]
            flood_rows = {"update_id": {"$in": flood_ids}, "done": True}

            async def flood_handled() -> bool:  # all 70 handled (answered, or dropped by flood control)
                return await TelegramUpdateRow.find(flood_rows).count() == 70
            await eventually(flood_handled, timeout=STEP, interval=0.1)
            await eventually(lambda: _true(len(flooder.messages()) >= FLOOD_LIMIT + 1), timeout=STEP)
            texts = [m.plain_text() for m in flooder.messages()]
            answered = Counter("help" if HELP in t else t[:80] for t in texts)
            assert answered == {"help": FLOOD_LIMIT, FLOOD_WARNING[:80]: 1}, answered

            async def all_done() -> bool:
                return await TelegramUpdateRow.find({"done": False}).count() == 0
            await eventually(all_done, timeout=60, interval=0.2)
        finally:
            for process in processes:
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                if process is not None:
                    await asyncio.to_thread(process.wait, 30)

    # Every traveller: one PENDING booking, one payment link — nothing done twice.
    bookings = await Booking.find({"user_id": {"$in": [t.user_id for t in crowd]}}).to_list()
    per_user = Counter(b.user_id for b in bookings)
    assert all(per_user[t.user_id] == 1 for t in crowd), [u for u in per_user if per_user[u] != 1]
    assert all(b.status == BookingStatus.PENDING and b.payment.session_id for b in bookings)
    # One link each. A replica killed after sending a reply but before marking its update done leaves that update
    # to be handled again: the chat already applied it (Conversation.applied_updates), so it only shows the
    # current step again — the same link, at most once per update in flight at the kill.
    links_shown = [[b.url for m in t.messages() for row in m.buttons for b in row if is_payment_link(m)]
                   for t in crowd]
    assert all(len(set(urls)) == 1 for urls in links_shown)
    shown_again = sum(len(urls) - 1 for urls in links_shown)
    assert shown_again <= in_flight_at_kill, f"{shown_again} links shown again, {in_flight_at_kill} in flight"
    assert len(stripe.sessions) == CROWD + 2, "a Checkout Session created twice"  # and the greedy one's two
    await _no_seat_in_two_bookings()
    assert await TelegramUpdateRow.find({"failed": True}).count() == 0
    # Bursts of three leaky buckets can still meet Telegram's limit now and then: waited out and sent, never lost
    # (every traveller got every answer above).
    refused = sum(1 for c in telegram.calls if c.error_code == 429)
    assert all(proxy.served[f"http://127.0.0.1:{p}"] > 0 for p in ports)
    assert proxy.served[f"http://127.0.0.1:{ports[1]}"] > served_before, "the restarted replica took no update"
    print(f"\n{REPLICAS} replicas, {CROWD} travellers + 2: all booked in {elapsed:.0f} s; replica 2 SIGKILLed at "
          f"{killed_at:.0f} s ({links_at_kill}/{CROWD} links sent, {in_flight_at_kill} updates not done), "
          f"serving again at {restarted_at:.0f} s; proxy: "
          f"{dict(Counter({k[-5:]: v for k, v in proxy.served.items()}))} requests, {proxy.cut_off} cut off; "
          f"{shown_again} links shown again by a replayed update; {len(telegram.calls)} Bot API calls, "
          f"{refused} refused by Telegram's 30/s and sent again")


async def _greedy(t: Any, days_ahead: int) -> None:
    """Two unpaid bookings, then a third is refused — whichever replicas the updates reach."""
    for _ in range(2):
        await book(t, days_ahead)
    await book(t, days_ahead, last="You already have 2 unpaid bookings")
    assert await Booking.find({"user_id": t.user_id, "status": BookingStatus.PENDING}).count() == 2


async def _no_seat_in_two_bookings() -> None:
    live = await Booking.find({"status": BookingStatus.PENDING}).to_list()
    owners: dict[tuple[str, str], str] = {}
    for booking in live:
        for segment in booking.segments:
            for seat in segment.seats:
                key = (segment.flight.flight_id, seat)
                assert key not in owners, f"seat {seat} of {key[0]} in {owners[key]} and {booking.reference}"
                owners[key] = booking.reference
                hold = await SeatHold.find_one(SeatHold.seat_key == f"{key[0]}:{seat}")
                assert hold is not None and hold.booking_id == str(booking.id), (booking.reference, seat, hold)


async def _true(value: bool) -> bool:
    return value
