"""Seats typed on the seat step in Telegram ("12A", "12 a"): picked wherever they are on the map, through the same
atomic hold as a tap, with a precise answer when they can't be; wide cabins paged without overlap."""

from __future__ import annotations

from typing import Any

from models import SeatHold
from tests.flows import pick_first_fare, search_one_line, travel_day

# LHR → JFK flies a Boeing 787-9: business rows 1–7 "AC DG HK", economy rows 10–40 (no 13) "ABC DEF HJK".


async def _on_seat_map(bot: Any, chat_id: int, pax: int = 1, days: int = 11) -> Any:
    t = bot.telegram.traveller(chat_id)
    await search_one_line(t, "LHR", "JFK", travel_day(bot.clock, days), pax)
    await pick_first_fare(t)
    return t


async def test_wide_cabin_pages_do_not_overlap_and_name_their_letters(bot: Any) -> None:
    t = await _on_seat_map(bot, 15701)
    first = t.last_message()
    assert "Economy · rows 10–19 · seats A–C · D–F" in first.plain_text()
    assert "15K" not in first.button_labels() and "15C" in first.button_labels()
    await t.press("Next ›")
    second = await t.wait_for("seats H–K")
    assert "Economy · rows 10–19 · seats H–K" in second.plain_text()
    labels = second.button_labels()
    assert "15K" in labels and not any(label in labels for label in ("15D", "15E", "15F"))  # no overlap


async def test_typed_seat_on_another_page_is_held_and_the_map_turns_to_it(bot: Any) -> None:
    t = await _on_seat_map(bot, 15702)
    await t.send("35 k")
    said = await t.wait_for("35K is yours")
    seat_map = await t.wait_for("All seats picked")
    assert seat_map.message_id > said.message_id  # a new map below the answer
    assert "rows 29–37 · seats H–K" in seat_map.plain_text()
    assert "✅35K" in seat_map.button_labels()
    holds = await SeatHold.find(SeatHold.holder == "chat:15702").to_list()
    assert [h.seat for h in holds] == ["35K"] and holds[0].cabin == "economy"
    await t.send("12a")  # one passenger: a typed seat moves the pick, as a tap does
    await t.wait_for("12A is yours")
    moved = await t.wait_for("All seats picked")
    assert "seats A–C · D–F" in moved.plain_text() and "✅12A" in moved.button_labels()
    assert [h.seat for h in await SeatHold.find(SeatHold.holder == "chat:15702").to_list()] == ["12A"]
    await t.send("12A")
    await t.wait_for("12A is already yours")


async def test_typed_seats_that_cannot_be_picked_get_a_precise_answer(bot: Any) -> None:
    t = await _on_seat_map(bot, 15703, days=12)
    await t.send("45A")
    await t.wait_for("There is no row 45 on this aircraft.")
    await t.send("13C")
    await t.wait_for("There is no row 13 on this aircraft.")
    await t.send("12 I")
    await t.wait_for("Row 12 has no seat I.")
    await t.send("5A")
    await t.wait_for("5A is in Business; you are choosing Economy seats.")
    assert await SeatHold.find(SeatHold.holder == "chat:15703").count() == 0


async def test_typed_taken_seat_suggests_the_nearest_free_ones(bot: Any) -> None:
    day_ahead = 13
    ada = await _on_seat_map(bot, 15704, days=day_ahead)
    await ada.send("12A")
    await ada.wait_for("All seats picked")
    bob = await _on_seat_map(bot, 15705, days=day_ahead)
    await bob.send("12A")
    await bob.wait_for("12A is taken; 12B and 12C next to it are free.")
    assert await SeatHold.find(SeatHold.holder == "chat:15705").count() == 0
    await bob.press("✖")  # the ✖ on the map answers the same
    await bot.telegram.wait_until_callbacks_answered()
    assert any("12B and 12C next to it are free" in str(a) for a in bob.callback_answers)


async def test_other_text_and_garbage_on_the_seat_step_get_the_hint(bot: Any) -> None:
    t = await _on_seat_map(bot, 15706, days=14)
    for text in ("window please", "12", "A12", "1234A", "x" * 4096, "12A; DROP", "<b>12A</b>"):
        await t.send(text)
        await t.wait_for("type one like 12A")
    assert await SeatHold.find(SeatHold.holder == "chat:15706").count() == 0
    for _ in range(25):  # the same seat typed 25 times: held once, still one seat
        await t.send("22C")
    await t.wait_for(lambda m: "✅22C" in m.button_labels())
    await bot.telegram.wait_until_callbacks_answered()
    holds = await SeatHold.find(SeatHold.holder == "chat:15706").to_list()
    assert [h.seat for h in holds] == ["22C"]


async def test_typed_seats_fill_a_party_in_order(bot: Any) -> None:
    t = await _on_seat_map(bot, 15707, pax=2, days=15)
    await t.send("30D")
    await t.wait_for("Tap a seat for passenger 2 of 2")
    await t.send("30 e")
    done = await t.wait_for("All seats picked")
    assert "Your seats: 30D, 30E" in done.plain_text()
    await t.send("31A")
    await t.wait_for("All seats are picked")
