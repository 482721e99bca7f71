"""Conversation state lives in MongoDB: restarts, replicas, races for one seat and hold expiry."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Update

from bot.app import build_application
from bot.runtime import build_services
from core.clock import Clock
from core.database import Database
from models import Booking, BookingStatus, SeatHold
from tests.flows import book_to_review, free_seats, pick_first_fare, search_one_line, travel_day
from tests.harness import make_settings, running_bot


async def test_restart_mid_flow_continues_at_the_same_step(inventory_db: Database, telegram: Any,
                                                           tmp_path: Path, mongo_uri: str) -> None:
    t = telegram.traveller(5001)
    clock = Clock()
    async with running_bot(inventory_db, telegram, tmp_path, clock=clock, share_database=False,
                           mongo_uri=mongo_uri):
        await search_one_line(t, "LHR", "JFK", travel_day(clock, 8), 1)
        seat_map = await pick_first_fare(t)
    # a brand-new Application, services and database connection: nothing carried over in memory
    async with running_bot(inventory_db, telegram, tmp_path, clock=clock, share_database=False,
                           mongo_uri=mongo_uri):
        free = free_seats(seat_map)
        await t.press(free[0], seat_map)
        await t.wait_for("All seats picked")
        await t.press("Continue")
        await t.wait_for("Passenger 1 of 1")


@contextlib.asynccontextmanager
async def _replica(database: Database, telegram: Any, tmp_path: Path, clock: Clock) -> AsyncIterator[Any]:
    """One FlyO replica without an updater: the test hands it updates, like a load balancer would."""
    settings = make_settings(telegram, tmp_path)
    services = await build_services(settings, database, clock)
    app = build_application(settings, services, with_updater=False)
    await app.initialize()
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        await app.shutdown()


async def _alternate(telegram: Any, replicas: list[Any], stop: asyncio.Event, handled: list[int]) -> None:
    """Poll the fake Bot API and give updates to the replicas in turn."""
    offset = 0
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            async with http.post(f"{telegram.api_root}/bot{telegram.token}/getUpdates",
                                 data={"offset": str(offset), "timeout": "0"}) as response:
                updates = (await response.json())["result"]
            for raw in updates:
                offset = raw["update_id"] + 1
                app = replicas[len(handled) % len(replicas)]
                handled.append(len(handled) % len(replicas))
                await app.process_update(Update.de_json(raw, app.bot))
            if not updates:
                await asyncio.sleep(0.01)


async def test_two_replicas_alternating_updates_of_one_chat_book_correctly(inventory_db: Database, telegram: Any,
                                                                            tmp_path: Path) -> None:
    clock = Clock()
    t = telegram.traveller(5002)
    async with _replica(inventory_db, telegram, tmp_path, clock) as a, \
            _replica(inventory_db, telegram, tmp_path, clock) as b:
        stop, handled = asyncio.Event(), list[int]()
        pump = asyncio.create_task(_alternate(telegram, [a, b], stop, handled))
        try:
            await book_to_review(t, clock, pax=2)
            await t.press("Confirm and pay")
            await t.wait_for("PENDING")
        finally:
            stop.set()
            await pump
    assert handled.count(0) > 5 and handled.count(1) > 5  # both replicas really took part
    booking = await Booking.find_one(Booking.user_id == 5002)
    assert booking is not None and booking.status == BookingStatus.PENDING
    assert len(booking.segments[0].seats) == 2 and len(set(booking.segments[0].seats)) == 2
    assert [p.full_name for p in booking.passengers] == ["Ada Lovelace", "Charles Babbage"]


@pytest.mark.slow
async def test_200_travellers_race_for_one_seat_exactly_one_wins(inventory_db: Database, telegram: Any,
                                                                 tmp_path: Path) -> None:
    # Telegram's outgoing rate limit (30 msg/s) would turn this into a 15 s test; it is not what is tested.
    async with running_bot(inventory_db, telegram, tmp_path, TELEGRAM_RATE_LIMIT=False) as bot:
        await _race(bot)


async def _race(bot: Any) -> None:
    day = travel_day(bot.clock, 11)
    travellers = [bot.telegram.traveller(6000 + i) for i in range(200)]

    async def to_seat_map(t: Any) -> Any:
        await search_one_line(t, "LHR", "JFK", day, 1, timeout=30)
        return await pick_first_fare(t, timeout=30)

    maps = await asyncio.gather(*(to_seat_map(t) for t in travellers))
    seat = free_seats(maps[0])[0]
    assert all(seat in m.button_labels() for m in maps)
    await asyncio.gather(*(t.press(seat, m) for t, m in zip(travellers, maps, strict=True)))
    after = await asyncio.gather(*(t.wait_for("Seats are held", timeout=30) for t in travellers))

    holds = await SeatHold.find(SeatHold.seat == seat).to_list()
    assert len(holds) == 1
    winner_chat = int(holds[0].holder.split(":")[1])
    winners = [t for t, m in zip(travellers, after, strict=True) if f"✅{seat}" in m.button_labels()]
    assert [w.user_id for w in winners] == [winner_chat]
    for t, m in zip(travellers, after, strict=True):
        if t.user_id == winner_chat:
            continue
        assert "✖" in m.button_labels() and f"✅{seat}" not in m.button_labels()  # the map again, seat taken
        assert any("was just taken" in (a.get("text") or "") for a in t.callback_answers)


async def test_expired_hold_is_free_for_another_traveller(bot: Any) -> None:
    day = travel_day(bot.clock, 12)
    ada, bob = bot.telegram.traveller(7001), bot.telegram.traveller(7002)
    await search_one_line(ada, "LHR", "JFK", day, 1)
    ada_map = await pick_first_fare(ada)
    seat = free_seats(ada_map)[0]
    await ada.press(seat, ada_map)
    await ada.wait_for("All seats picked")
    await search_one_line(bob, "LHR", "JFK", day, 1)
    bob_map = await pick_first_fare(bob)
    assert seat not in bob_map.button_labels()  # shown as taken while Ada holds it
    bot.clock.advance(timedelta(minutes=bot.settings.HOLD_MINUTES, seconds=1))  # no sleeping: move the clock
    await bob.press("Next ›", bob_map)
    await bob.wait_for("Tap a seat")
    await bob.press("‹ Prev")
    refreshed = await bob.wait_for("Tap a seat")
    assert seat in refreshed.button_labels()
    await bob.press(seat, refreshed)
    await bob.wait_for("All seats picked")
    holds = await SeatHold.find(SeatHold.seat == seat).to_list()
    assert [h.holder for h in holds] == ["chat:7002"]
    await ada.press("Continue")
    await ada.wait_for("lapsed")  # Ada is told and shown the map again
