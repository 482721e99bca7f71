"""Return trips and connections as a traveller types and taps them (the real Application, the fake Bot API)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.formatting import local_date
from models import Booking, BookingStatus, SeatHold
from models.conversation import Conversation
from tests.flows import fill_passenger, guided_to_trip_question, seat_each_flight, travel_day


async def _draft(chat_id: int) -> dict[str, Any]:
    conversation = await Conversation.find_one(Conversation.chat_id == chat_id)
    assert conversation is not None
    return conversation.draft


@pytest.mark.parametrize("how", ["words", "iso", "dash"])
async def test_one_line_return_search_in_three_formats(bot: Any, how: str) -> None:
    t = bot.telegram.traveller({"words": 15001, "iso": 15002, "dash": 15003}[how])
    out = travel_day(bot.clock, 11)
    back = out + timedelta(days=6)
    text = {
        "words": f"LHR JFK {out:%d %b} {back:%d %b} 2",
        "iso": f"LHR JFK {out.isoformat()} {back.isoformat()} 2",
        "dash": f"london new york {out:%d %b} - {back:%d %b}".lower(),
    }[how]
    await t.send(text)
    results = (await t.wait_for("Outbound ·")).plain_text()
    assert local_date(out) in results
    draft = await _draft(t.chat_id)
    assert (draft["trip"], draft["date"], draft["return_date"]) == ("return", out.isoformat(), back.isoformat())
    assert draft["pax"] == (1 if how == "dash" else 2)
    await t.press("1. Economy")
    inbound = (await t.wait_for("Return ·")).plain_text()
    assert local_date(back) in inbound and "New York" in inbound.split("\n")[0]


async def test_a_return_before_the_outbound_is_refused_with_a_reason_and_only_the_return_asked(bot: Any) -> None:
    t = bot.telegram.traveller(15004)
    out = travel_day(bot.clock, 12)
    await t.send(f"LHR JFK {out.isoformat()} {(out - timedelta(days=3)).isoformat()} 2")
    refused = (await t.wait_for("before the departure date")).plain_text()
    assert local_date(out) in refused
    await t.wait_for("When do you fly back")  # route, outbound and passengers kept
    await t.send((out + timedelta(days=2)).isoformat())
    await t.wait_for("Outbound ·")
    draft = await _draft(15004)
    assert draft["return_date"] == (out + timedelta(days=2)).isoformat() and draft["pax"] == 2


async def test_a_return_beyond_the_inventory_offers_the_latest_days_with_flights(bot: Any) -> None:
    t = bot.telegram.traveller(15005)
    last: date = bot.services.last_day
    out = last - timedelta(days=5)
    await t.send(f"LHR JFK {out.isoformat()} {(last + timedelta(days=20)).isoformat()} 1")
    offer = await t.wait_for("latest return days with flights")
    days = offer.button_labels()
    latest = [local_date(last - timedelta(days=n)) for n in range(4)]  # the last bookable days, nearest first
    assert days and all(label in latest for label in days), (days, latest)
    await t.press(days[0])
    await t.wait_for("Outbound ·")


async def test_return_dates_from_buttons_are_checked(bot: Any) -> None:
    """A forged or stale return-day button: a past day, a day before the outbound, garbage — refused politely."""
    t = bot.telegram.traveller(15006)
    out = travel_day(bot.clock, 10)
    await guided_to_trip_question(t, out)
    await t.press("Return")
    calendar = await t.wait_for("When do you fly back")
    conversation = await Conversation.find_one(Conversation.chat_id == 15006)
    assert conversation is not None
    for arg in ((out - timedelta(days=1)).strftime("%Y%m%d"), "2026", "abcdefgh", "99999999", "2026021", "x" * 40):
        await t.press_data(f"{conversation.flow}:rday:{arg}", calendar.message_id)
    await bot.telegram.wait_until_callbacks_answered()
    notices = [str(a.get("text", "")) for a in t.callback_answers]
    assert any("before the departure date" in n for n in notices), notices
    draft = await _draft(15006)
    assert draft.get("return_date") is None  # nothing was taken as the return
    for _tap in range(25):  # the same day tapped 25 times: one return date, one results screen
        await t.press_data(f"{conversation.flow}:rday:{(out + timedelta(days=3)).strftime('%Y%m%d')}",
                           calendar.message_id)
    await t.wait_for("How many passengers")
    await bot.telegram.wait_until_callbacks_answered()
    assert sum("How many passengers" in m.plain_text() for m in t.messages()) == 1
    assert (await _draft(15006))["return_date"] == (out + timedelta(days=3)).isoformat()


async def test_lhr_syd_has_no_direct_flight_and_a_connection_holds_seats_on_both_flights(bot: Any) -> None:
    t = bot.telegram.traveller(15007)
    day = travel_day(bot.clock, 10)
    await t.send(f"LHR SYD {day.isoformat()} 1")
    results = (await t.wait_for("tap a fare")).plain_text()
    assert "1 stop" in results and "total" in results
    await t.press("1. Economy")
    await seat_each_flight(t, 2)
    maps = [m.plain_text() for m in t.messages() if " of 2 · Connection" in m.plain_text()]
    assert "LHR →" in maps[0] and "→ SYD" in maps[-1]
    await t.wait_for("Passenger 1 of 1")
    await fill_passenger(t, 0, "Ada Lovelace", "1985-12-10", "ada@example.com")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert review.count("Departs") == 2
    await t.press("Confirm and pay")
    await t.wait_for("Booking")
    booking = await Booking.find_one(Booking.user_id == 15007)
    assert booking is not None and booking.status == BookingStatus.PENDING
    first_leg, second_leg = (s.flight for s in booking.segments)
    assert (first_leg.origin, second_leg.destination) == ("LHR", "SYD")
    assert first_leg.destination == second_leg.origin  # one hub
    layover = second_leg.departs_at - first_leg.arrives_at
    assert timedelta(minutes=bot.settings.MIN_CONNECT_MINUTES) <= layover <= timedelta(
        hours=bot.settings.MAX_LAYOVER_HOURS)
    assert first_leg.cabin == second_leg.cabin == "economy"
    for segment in booking.segments:
        held = await SeatHold.find(SeatHold.booking_id == str(booking.id),
                                   SeatHold.flight_id == segment.flight.flight_id).to_list()
        assert [h.seat for h in held] == segment.seats
    assert booking.price.currency == "GBP"  # one through fare in the origin's currency
    # The arrival's day is counted from the departure day in London, as on a ticket ("06:55 (+2)").
    landing = second_leg.arrives_at.astimezone(ZoneInfo("Australia/Sydney"))
    days = (landing.date() - first_leg.departs_at.astimezone(ZoneInfo("Europe/London")).date()).days
    assert f"→ SYD {landing:%H:%M}" + (f" (+{days})" if days else "") in results.split("\n2.")[0]


async def test_a_forged_connection_button_is_refused(bot: Any) -> None:
    t = bot.telegram.traveller(15008)
    await t.send(f"LHR SYD {travel_day(bot.clock, 10).isoformat()} 1")
    results = await t.wait_for("tap a fare")
    conversation = await Conversation.find_one(Conversation.chat_id == 15008)
    assert conversation is not None
    for arg in ("c000000000000.e", "c.e", "cZZZ", "c" + "f" * 12 + ".", "+" * 40):
        await t.press_data(f"{conversation.flow}:fl:{arg}"[:64], results.message_id)
        await t.wait_for("no longer available")
    await bot.telegram.wait_until_callbacks_answered()
    assert await SeatHold.find(SeatHold.holder == "chat:15008").count() == 0


async def test_back_from_the_return_results_to_the_outbound_and_another_pick(bot: Any) -> None:
    t = bot.telegram.traveller(15009)
    out = travel_day(bot.clock, 13)
    await t.send(f"LHR JFK {out.isoformat()} {(out + timedelta(days=4)).isoformat()} 1")
    await t.wait_for("Outbound ·")
    await t.press("1. Economy")
    await t.wait_for("Return ·")
    await t.press("Back to outbound flights")
    await t.wait_for("Outbound ·")
    await t.press("2. Business")
    await t.wait_for("Return ·")
    draft = await _draft(15009)
    assert [(p["leg"], p["cabin"]) for p in draft["picks"]] == [(0, "business")]  # the first pick was replaced


async def test_day_before_and_after_move_the_way_being_chosen_and_never_put_the_return_first(bot: Any) -> None:
    t = bot.telegram.traveller(15010)
    out = travel_day(bot.clock, 14)
    await t.send(f"LHR JFK {out.isoformat()} {(out + timedelta(days=1)).isoformat()} 1")
    await t.wait_for("Outbound ·")
    await t.press("Day after")  # the outbound may move onto the return day, not past it
    await t.wait_for(lambda m: "Outbound ·" in m.plain_text() and local_date(out + timedelta(days=1)) in m.plain_text())
    await t.press("Day after")
    await bot.telegram.wait_until_callbacks_answered()
    assert "after your return" in str(t.callback_answers[-1].get("text", ""))
    await t.press("1. Economy")
    await t.wait_for("Return ·")
    await t.press("Day before")  # the return can't move before the outbound
    await bot.telegram.wait_until_callbacks_answered()
    assert "before the departure date" in str(t.callback_answers[-1].get("text", ""))
    await t.press("Day after")
    shifted = await t.wait_for(lambda m: "Return ·" in m.plain_text()
                               and local_date(out + timedelta(days=2)) in m.plain_text())
    assert "Your outbound" in shifted.plain_text()
    draft = await _draft(15010)
    assert (draft["date"], draft["return_date"]) == ((out + timedelta(days=1)).isoformat(),
                                                     (out + timedelta(days=2)).isoformat())


async def test_a_new_search_mid_booking_asks_before_discarding_the_held_seats(bot: Any) -> None:
    from tests.flows import to_passengers

    t = bot.telegram.traveller(15011)
    await to_passengers(t, bot.clock, pax=1, days_ahead=9)
    held = await SeatHold.find(SeatHold.holder == "chat:15011").to_list()
    assert len(held) == 1
    await t.send(f"/search LHR CDG {travel_day(bot.clock, 12).isoformat()}")
    ask = await t.wait_for("Discard your booking in progress")
    assert held[0].seat in ask.plain_text()
    await t.press("Continue my booking")
    await t.wait_for("Passenger 1 of 1")  # the question the booking was at; nothing lost
    assert await SeatHold.find(SeatHold.holder == "chat:15011").count() == 1
    await t.send(f"/search LHR CDG {travel_day(bot.clock, 12).isoformat()}")
    ask = await t.wait_for("Discard your booking in progress")
    for _tap in range(25):
        await t.press("Discard it and search", ask)
    await t.wait_for("London LHR → Paris CDG")
    await bot.telegram.wait_until_callbacks_answered()
    assert sum("London LHR → Paris CDG" in m.plain_text() for m in t.messages()) == 1
    assert await SeatHold.find(SeatHold.holder == "chat:15011").count() == 0


async def test_a_one_line_search_typed_at_the_review_never_mixes_in_the_earlier_passengers(bot: Any) -> None:
    from tests.flows import book_to_review, pick_first_fare, pick_seats_for_me

    t = bot.telegram.traveller(15012)
    await book_to_review(t, bot.clock, pax=2)
    await t.send(f"LHR CDG {travel_day(bot.clock, 12).isoformat()} 1")  # typed, not /search
    await t.wait_for("Discard your booking in progress")
    await t.press("Discard it and search")
    await t.wait_for("London LHR → Paris CDG")
    await pick_first_fare(t)
    await pick_seats_for_me(t)
    await t.press("Continue")
    await t.wait_for("Passenger 1 of 1")  # a fresh passenger list: the earlier two are gone
    draft = await _draft(15012)
    assert draft.get("people", []) in ([], [{}]) and draft["pax"] == 1


async def test_back_walks_the_search_questions_in_reverse_and_keeps_the_answers(bot: Any) -> None:
    t = bot.telegram.traveller(15013)
    out = travel_day(bot.clock, 10)
    await t.send("/search")
    await t.wait_for("Where are you flying from")
    await t.send("LHR")
    await t.wait_for("Where to?")
    await t.press("Back")
    await t.wait_for("Where are you flying from")
    await t.send("LHR")
    await t.wait_for("Where to?")
    await t.send("JFK")
    await t.wait_for("When?")
    await t.press("Back")
    await t.wait_for("Where to?")
    await t.send("BOS")  # a new destination
    await t.wait_for("When?")
    await guided_date_and_trip(t, out)
    await t.press("Back")  # from the return date: one way or return again
    await t.wait_for("One way or return?")
    await t.press("One way")
    await t.wait_for("How many passengers")
    await t.press("Back")  # a one-way trip: back to one way or return
    await t.wait_for("One way or return?")
    await t.press("Return")
    await t.wait_for("When do you fly back")
    await t.press("a week later")
    await t.wait_for("How many passengers")
    await t.press("1")
    results = (await t.wait_for("Outbound ·")).plain_text()
    assert "London LHR → Boston BOS" in results and local_date(out) in results
    draft = await _draft(15013)
    assert (draft["trip"], draft["return_date"]) == ("return", (out + timedelta(days=7)).isoformat())


async def guided_date_and_trip(t: Any, day: date) -> None:
    await t.send(day.isoformat())
    await t.wait_for("One way or return?")
    await t.press("Return")
    await t.wait_for("When do you fly back")
