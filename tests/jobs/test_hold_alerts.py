"""Seat-hold awareness with the clock moved: one warning 2 minutes before a chat hold lapses, one notice when it
lapsed; none for a seat held again since, none once booked; two sweeps at once send each once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from models import SeatHold
from models.ops import Notification
from tests.flows import drain_outbox, pick_first_fare, search_one_line, travel_day
from tests.paying import PayingBot

WARNING = "about 2 minutes left"
LAPSED = "were released after"


async def _two_sweeps_at_once(running: Any) -> None:
    sweeper = running.services.sweeper
    await asyncio.gather(sweeper.run(), sweeper.run())  # two replicas' schedulers firing together


async def _expiry(chat_id: int) -> int:
    holds = await SeatHold.find(SeatHold.holder == f"chat:{chat_id}").to_list()
    assert holds
    return min(h.expires_ms for h in holds)


def _advance_to(running: Any, at_ms: int) -> None:
    running.clock.advance(timedelta(milliseconds=at_ms - running.clock.now_ms()))


def _london(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(ZoneInfo("Europe/London")).strftime("%H:%M")


async def _count(t: Any, running: Any, text: str) -> int:
    await drain_outbox(running.services)
    return sum(text in m.plain_text() for m in t.messages())


async def _holding(bot: Any, chat_id: int, seats: list[str], days: int) -> Any:
    t = bot.telegram.traveller(chat_id)
    await search_one_line(t, "LHR", "JFK", travel_day(bot.clock, days), len(seats))
    await pick_first_fare(t)
    for seat in seats:
        await t.send(seat)
        await t.wait_for(f"{seat} is yours")
    await t.wait_for("All seats picked")
    return t


async def test_warned_once_two_minutes_before_and_told_once_when_the_hold_lapsed(bot: Any) -> None:
    t = await _holding(bot, 15711, ["12A", "12B"], days=16)
    expires = await _expiry(15711)
    _advance_to(bot, expires - 3 * 60_000)
    await _two_sweeps_at_once(bot)
    assert await Notification.find({"key": {"$regex": "^hold-"}, "payload.chat_id": 15711}).count() == 0  # early
    _advance_to(bot, expires - 90_000)
    await _two_sweeps_at_once(bot)
    warning = await t.wait_for(WARNING)
    assert (f"Your seats 12A, 12B are held until {_london(expires)} London time — about 2 minutes left. "
            "Tap ✅ Continue to keep them.") in warning.plain_text()
    await _two_sweeps_at_once(bot)
    assert await _count(t, bot, WARNING) == 1
    _advance_to(bot, expires + 60_000)
    await _two_sweeps_at_once(bot)
    lapsed = await t.wait_for(LAPSED)
    assert ("Your held seats 12A, 12B were released after 15 minutes; they may still be free — pick them again."
            in lapsed.plain_text())
    await _two_sweeps_at_once(bot)
    assert await _count(t, bot, LAPSED) == 1 and await _count(t, bot, WARNING) == 1
    assert await SeatHold.find(SeatHold.holder == "chat:15711").count() == 0
    await t.press("Continue")  # the confirm step takes the lapsed seats again, still free (existing behaviour)
    await t.wait_for("Passenger 1 of 2")


async def test_a_seat_held_again_gets_no_stale_warning(bot: Any) -> None:
    t = await _holding(bot, 15712, ["20C"], days=17)
    first = await _expiry(15712)
    _advance_to(bot, first - 4 * 60_000)
    await t.press("Continue")  # ✅ Continue holds every seat again for the full period
    await t.wait_for("Passenger 1 of 1")
    again = await _expiry(15712)
    assert again > first
    _advance_to(bot, first - 90_000)  # the old expiry is near: nothing to say
    await _two_sweeps_at_once(bot)
    await drain_outbox(bot.services)
    assert await Notification.find({"key": {"$regex": "^hold-"}, "payload.chat_id": 15712}).count() == 0
    _advance_to(bot, again - 90_000)
    await _two_sweeps_at_once(bot)
    warning = await t.wait_for(WARNING)
    text = warning.plain_text()
    assert f"held until {_london(again)} London time" in text and "Confirm your booking before then" in text
    assert await _count(t, bot, WARNING) == 1


async def test_a_traveller_who_booked_meanwhile_is_not_warned(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(15713)
    await paying.booked_with_link(ada, days_ahead=18)
    assert await SeatHold.find(SeatHold.holder == "chat:15713").count() == 0  # the booking's seats now
    paying.bot.clock.advance(timedelta(minutes=paying.bot.settings.HOLD_MINUTES - 1))
    await _two_sweeps_at_once(paying.bot)
    paying.bot.clock.advance(timedelta(minutes=2))
    await _two_sweeps_at_once(paying.bot)
    await drain_outbox(paying.services)
    assert await Notification.find({"key": {"$regex": "^hold-"}, "payload.chat_id": 15713}).count() == 0
    assert not any(WARNING in m.plain_text() or LAPSED in m.plain_text() for m in ada.messages())


async def test_a_traveller_who_started_over_is_not_told(bot: Any) -> None:
    t = await _holding(bot, 15714, ["30A"], days=19)
    expires = await _expiry(15714)
    await t.send("/search")  # a new search frees the seats and leaves the seat step (once it is confirmed)
    await t.wait_for("Discard your booking in progress")
    await t.press("Discard it and search")
    await t.wait_for("Where are you flying from")
    _advance_to(bot, expires - 90_000)
    await _two_sweeps_at_once(bot)
    _advance_to(bot, expires + 60_000)
    await _two_sweeps_at_once(bot)
    await drain_outbox(bot.services)
    assert await Notification.find({"key": {"$regex": "^hold-"}, "payload.chat_id": 15714}).count() == 0


async def test_a_german_traveller_is_warned_in_german(bot: Any) -> None:
    """The sweep has no update to take a language from: it uses the language the chat was last answered in."""
    from core.i18n import _, use_locale

    t = bot.telegram.traveller(15719, language_code="de-DE")
    await search_one_line_any(t, bot)
    expires = await _expiry(15719)
    _advance_to(bot, expires - 60_000)
    await bot.services.sweeper.run()
    await drain_outbox(bot.services)
    with use_locale("de"):
        keep = _("Tap ✅ Continue to keep them.")
    assert any(keep in m.plain_text() for m in t.messages()), [m.plain_text()[:80] for m in t.messages()][-3:]


async def search_one_line_any(t: Any, bot: Any) -> None:
    """A one-line search and a tap on the first fare and two seats, in whatever language the chat speaks."""
    await t.send(f"LHR JFK {travel_day(bot.clock, 17).isoformat()} 1")
    await t.press("Economy", await t.wait_for("LHR"))  # the cabin's name in German too
    await t.wait_for("Economy")
    await t.send("12A")
    await t.wait_for(lambda m: "✅12A" in m.button_labels())
