"""Trust I in the chat: departed flights are not bookable, and a replayed step never repeats its side effects."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from telegram import Update

from core.clock import Clock
from core.database import Database
from models import Booking, BookingStatus, SeatHold
from models.conversation import Conversation
from services.conversations import StaleConversation
from tests.flows import book_to_review, search_one_line, travel_day
from tests.handlers.test_state_and_races import _replica
from tests.harness import RunningBot


async def test_results_left_open_for_days_do_not_book_a_departed_flight(bot: RunningBot) -> None:
    t = bot.telegram.traveller(5301)
    await search_one_line(t, "LHR", "JFK", travel_day(bot.clock, 1), 1)
    bot.clock.advance(timedelta(days=3))
    await t.press("1. Economy")
    reply = await t.wait_for("departed")
    assert "Tap a seat" not in reply.plain_text()
    assert await SeatHold.find(SeatHold.holder == "chat:5301").count() == 0


async def test_fare_within_the_cutoff_is_refused(bot: RunningBot) -> None:
    t = bot.telegram.traveller(5302)
    await search_one_line(t, "LHR", "JFK", travel_day(bot.clock, 2), 1)
    conversation = await Conversation.find_one(Conversation.chat_id == 5302)
    assert conversation is not None
    first = await bot.services.flights.get(conversation.draft["flight_ids"][0])
    assert first is not None
    bot.clock.advance(first.departs_at - bot.clock.now()
                      - timedelta(minutes=bot.settings.BOOKING_CUTOFF_MINUTES - 5))
    await t.press("1. Economy")
    await t.wait_for("closes")
    assert await SeatHold.find(SeatHold.holder == "chat:5302").count() == 0


async def test_review_confirm_and_payment_link_respect_the_cutoff(bot: RunningBot) -> None:
    t = bot.telegram.traveller(5303)
    await book_to_review(t, bot.clock, days_ahead=1)
    conversation = await Conversation.find_one(Conversation.chat_id == 5303)
    assert conversation is not None
    flight = await bot.services.flights.get(conversation.draft["picks"][0]["flight_id"])
    assert flight is not None
    bot.clock.advance(flight.departs_at - bot.clock.now() - timedelta(minutes=30))
    await t.press("Confirm and pay")
    await t.wait_for("closes")
    assert await Booking.find(Booking.user_id == 5303).count() == 0


async def test_forged_flight_id_not_in_the_chats_results_is_refused(bot: RunningBot) -> None:
    t = bot.telegram.traveller(5304)
    results = await search_one_line(t, "LHR", "JFK", travel_day(bot.clock, 5), 1)
    conversation = await Conversation.find_one(Conversation.chat_id == 5304)
    assert conversation is not None
    other = await bot.services.flights.search(["CDG"], ["FCO"], travel_day(bot.clock, 6), 1)
    assert other.options
    await t.press_data(f"{conversation.flow}:fl:{other.options[0].flight.id}.E", results.message_id)
    await t.wait_for("no longer available")
    assert await SeatHold.find(SeatHold.holder == "chat:5304").count() == 0


async def test_stale_save_after_confirm_does_not_leave_an_orphan_booking(bot: RunningBot,
                                                                        monkeypatch: Any) -> None:
    """The router re-runs a step when another replica saved the chat first: the booking is made once."""
    t = bot.telegram.traveller(5305)
    await book_to_review(t, bot.clock)
    store = bot.services.conversations
    real_save = store.save
    calls: list[int] = []

    async def save_racing_another_replica(conversation: Conversation) -> None:
        calls.append(1)
        if len(calls) == 1 and conversation.step == "booked":
            raise StaleConversation(conversation.chat_id)  # as if another replica saved a moment before
        await real_save(conversation)

    monkeypatch.setattr(store, "save", save_racing_another_replica)
    await t.press("Confirm and pay")
    reply = await t.wait_for(lambda m: "Booking" in m.plain_text() or "taken" in m.plain_text())
    assert "taken" not in reply.plain_text()
    bookings = await Booking.find(Booking.user_id == 5305).to_list()
    assert len(bookings) == 1 and bookings[0].status == BookingStatus.PENDING
    assert bookings[0].reference in reply.plain_text()


async def test_two_replicas_handle_the_same_confirm_tap_twice(inventory_db: Database, telegram: Any,
                                                              tmp_path: Path) -> None:
    clock = Clock()
    t = telegram.traveller(5306)
    async with _replica(inventory_db, telegram, tmp_path, clock) as a, \
            _replica(inventory_db, telegram, tmp_path, clock) as b:
        pump = asyncio.create_task(_deliver_in_turn(telegram, [a]))
        try:
            review = await book_to_review(t, clock)
        finally:
            pump.cancel()
        offset = await _drain(telegram)
        await t.press("Confirm and pay", review)
        await t.press("Confirm and pay", review)
        updates = await _fetch(telegram, offset, expect=2)
        await asyncio.gather(a.process_update(Update.de_json(updates[0], a.bot)),
                             b.process_update(Update.de_json(updates[1], b.bot)))
    bookings = await Booking.find(Booking.user_id == 5306).to_list()
    assert len(bookings) == 1, [b.reference for b in bookings]
    assert bookings[0].status == BookingStatus.PENDING
    holds = await SeatHold.find(SeatHold.holder == f"booking:{bookings[0].id}").to_list()
    assert sorted(h.seat for h in holds) == sorted(bookings[0].segments[0].seats)
    texts = [m.plain_text() for m in t.messages()]
    assert not any("just taken" in text for text in texts), texts[-3:]


async def _deliver_in_turn(telegram: Any, replicas: list[Any]) -> None:
    offset = 0
    while True:
        updates = await _fetch(telegram, offset)
        for raw in updates:
            offset = raw["update_id"] + 1
            app = replicas[0]
            await app.process_update(Update.de_json(raw, app.bot))
        if not updates:
            await asyncio.sleep(0.01)


async def _fetch(telegram: Any, offset: int, expect: int = 0) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            async with http.post(f"{telegram.api_root}/bot{telegram.token}/getUpdates",
                                 data={"offset": str(offset), "timeout": "0"}) as response:
                got = (await response.json())["result"]
            if len(got) >= expect:
                return got
            await asyncio.sleep(0.01)
    return got


async def _drain(telegram: Any) -> int:
    updates = await _fetch(telegram, 0)
    offset = (updates[-1]["update_id"] + 1) if updates else 0
    await _fetch(telegram, offset)  # confirms the offset: older updates are dropped
    return offset


async def test_replayed_pick_for_me_leaves_no_orphan_holds(bot: RunningBot, monkeypatch: Any) -> None:
    t = bot.telegram.traveller(5307)
    await search_one_line(t, "LHR", "JFK", travel_day(bot.clock, 9), 2)
    await t.press("1. Economy")
    await t.wait_for("Tap a seat")
    store = bot.services.conversations
    real_save = store.save
    replayed: list[int] = []

    async def save_racing_another_replica(conversation: Conversation) -> None:
        picks = conversation.draft.get("picks") or [{}]
        if not replayed and all(picks[0].get("seats") or [None]):
            replayed.append(1)
            raise StaleConversation(conversation.chat_id)
        await real_save(conversation)

    monkeypatch.setattr(store, "save", save_racing_another_replica)
    await t.press("Pick for me")
    await t.wait_for("All seats picked")
    assert replayed
    conversation = await Conversation.find_one(Conversation.chat_id == 5307)
    assert conversation is not None
    held = sorted(h.seat for h in await SeatHold.find(SeatHold.holder == "chat:5307").to_list())
    assert held == sorted(conversation.draft["picks"][0]["seats"])
