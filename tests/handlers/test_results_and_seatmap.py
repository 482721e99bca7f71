"""Result paging and sorting; seat maps of every aircraft stay inside Telegram's keyboard limits."""

from __future__ import annotations

import re
from typing import Any

from services.inventory.network import aircraft_types
from services.seat_choice import MAX_ROW_BUTTONS, seat_pages
from tests.flows import travel_day


def test_every_seat_page_of_every_aircraft_fits_a_telegram_keyboard() -> None:
    for aircraft in aircraft_types():
        for cabin in aircraft.cabins:
            pages = seat_pages(cabin)
            covered = set()
            for page in pages:
                width = sum(len(g) for g in page.groups) + len(page.groups) - 1 + (1 if page.with_row_label else 0)
                assert width <= MAX_ROW_BUTTONS, (aircraft.code, cabin.cabin, page)
                assert len(page.rows) * width + 3 * 4 <= 100  # seat rows + control rows
                covered |= {f"{r}{c}" for r in page.rows for g in page.groups for c in g}
            assert covered == set(cabin.seat_codes()), (aircraft.code, cabin.cabin)


async def test_city_search_pages_and_sorts_by_price(bot: Any) -> None:
    t = bot.telegram.traveller(4101)
    await t.send(f"London Amsterdam {travel_day(bot.clock, 14).isoformat()} 2")
    first = await t.wait_for("tap a fare")
    text = first.plain_text()
    assert "any: " in text and "Page 1 of" in text
    assert "Next ›" in first.button_labels()
    await t.press("Next ›")
    second = await t.wait_for("Page 2 of")
    assert second.message_id == first.message_id  # edited in place, not a new message
    await t.press("By price")
    by_price = await t.wait_for("Page 1 of")
    totals = [float(m.replace(",", "")) for m in re.findall(r"Economy [£$€]([\d,]+\.\d\d)", by_price.plain_text())]
    assert totals == sorted(totals) and len(totals) >= 2


async def test_no_flights_offers_nearest_dates(bot: Any) -> None:
    """No direct flight and no connection that day (every LHR departure hidden): the nearest dates are offered."""
    from models import Flight

    day = travel_day(bot.clock, 15)
    flights = Flight.get_pymongo_collection()
    hidden = [(doc["_id"], doc["route_key"]) async for doc in flights.find(
        {"origin": "LHR", "departure_date": day.isoformat()}, {"route_key": 1})]
    for flight_id, _key in hidden:
        await flights.update_one({"_id": flight_id}, {"$set": {"route_key": "hidden"}})
    try:
        t = bot.telegram.traveller(4102)
        await t.send(f"/search LHR CDG {day.isoformat()} 1")
        reply = await t.wait_for("No flights")
        assert "nearby dates" in reply.plain_text()
        labels = reply.button_labels()
        assert labels and all(re.match(r"\w{3} \d\d \w{3}", label) for label in labels)
        await t.press(labels[0])
        await t.wait_for("tap a fare")
    finally:
        for flight_id, key in hidden:
            await flights.update_one({"_id": flight_id}, {"$set": {"route_key": key}})


async def test_the_calendar_leaves_out_weeks_that_are_over(bot: Any) -> None:
    t = bot.telegram.traveller(4190)
    await t.send("/search")
    await t.wait_for("Where are you flying from")
    await t.send("LHR")
    await t.wait_for("Where to?")
    await t.send("JFK")
    calendar = await t.wait_for("When?")
    weeks = [row for row in calendar.buttons if len(row) == 7][1:]  # the weekday names row first
    assert weeks and all(any(b.text != "·" for b in row) for row in weeks)
    today = bot.clock.now().date()
    assert str(today.day) in [b.text for b in weeks[0]]  # the first week shown is this one
