"""Every bad input gets its reason and the same question again; earlier answers stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.flows import pick_first_fare, pick_seats_for_me, search_one_line, to_passengers, travel_day


async def test_search_inputs_are_checked_with_reasons(bot: Any) -> None:
    t = bot.telegram.traveller(4001)
    await t.send("/search")
    await t.wait_for("Where are you flying from")
    await t.send("Xyzzyville")
    unknown = await t.wait_for("I don't know the airport")
    assert "Xyzzyville" in unknown.plain_text()
    await t.send("Paris")
    await t.wait_for("Paris has")
    await t.press("CDG")
    await t.wait_for("Where to?")
    await t.send("CDG")
    await t.wait_for("same as the origin")
    await t.send("ORY")  # another airport of the same city is fine
    await t.wait_for("When?")
    today = bot.clock.now().date()
    await t.send((today - timedelta(days=2)).isoformat())
    await t.wait_for("in the past")
    await t.send((today + timedelta(days=400)).isoformat())
    await t.wait_for("not on sale yet")
    await t.send("31/02")
    await t.wait_for("not a date in the calendar")
    await t.send("someday")
    await t.wait_for("couldn't read")
    await t.send("tomorrow")
    await t.wait_for("One way or return?")
    await t.send("sometimes")  # neither: asked again
    await t.wait_for("Please tap One way or Return")
    await t.press("One way")
    await t.wait_for("How many passengers")
    for bad in ("0", "10", "two"):
        await t.send(bad)
        await t.wait_for("from 1 to 9")
    await t.send("1")
    await t.wait_for("1 passenger")  # the results (or the nearest dates) for that route and day


async def test_passenger_answers_are_checked_and_nothing_is_lost(bot: Any) -> None:
    t = bot.telegram.traveller(4002)
    await to_passengers(t, bot.clock, days_ahead=9)
    for bad, reason in (("Ada", "both the given name and the family name"), ("Ad4 Lovelace", "can't be part")):
        await t.send(bad)
        await t.wait_for(reason)
    await t.send("Ada Lovelace")
    await t.wait_for("Date of birth")
    tomorrow = bot.clock.now().date() + timedelta(days=1)
    for bad, reason in ((tomorrow.isoformat(), "can't be in the future"), ("10 Dec", "YYYY-MM-DD"),
                        ("1815-02-30", "not a date")):
        await t.send(bad)
        await t.wait_for(reason)
    await t.send("1990-12-10")
    await t.wait_for("E-mail address")
    await t.send("ada@@example")
    await t.wait_for("doesn't look right")
    await t.send("ada@example.com")
    await t.wait_for("Phone number")
    await t.send("12")
    await t.wait_for("international format")
    await t.share_contact("+44 20 7946 0018", own=False, contact_user_id=999)
    await t.wait_for("someone else's contact")
    await t.share_contact("+442079460018")
    await t.wait_for("Passport or ID")
    await t.send("#$")
    await t.wait_for("5–20 letters or digits")
    await t.send("533401234")
    review = await t.wait_for("Please review your booking")
    text = review.plain_text()
    assert "Ada Lovelace" in text and "1990-12-10" in text and "ada@example.com" in text
    assert "+44 20 7946 0018" in text and "…234" in text  # stored E.164, shown as people write it


async def test_edit_passenger_asks_only_the_chosen_detail_and_offers_to_keep_it(bot: Any) -> None:
    from tests.flows import book_to_review

    t = bot.telegram.traveller(4003)
    await book_to_review(t, bot.clock, pax=2)
    await t.press("Edit passenger 2")
    card = (await t.wait_for("which detail should change")).plain_text()
    assert "Name: Charles Babbage" in card and "Date of birth: 1971-04-21" in card
    await t.press("Name")
    now = await t.wait_for("Now: Charles Babbage")
    assert "Keep" in " ".join(now.button_labels())
    assert "Passenger 2 of 2" in now.plain_text()  # only the name is asked: no date of birth, no document after it
    await t.send("grace hopper")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert "Ada Lovelace" in review and "Grace Hopper" in review and "Charles Babbage" not in review
    assert "born 1971-04-21" in review  # the date of birth stayed
    await t.press("Edit passenger 1")
    await t.wait_for("which detail should change")
    await t.press("E-mail")
    await t.wait_for("Now: ada@example.com")
    await t.press("Keep")
    kept = (await t.wait_for("Please review your booking")).plain_text()
    assert "ada@example.com" in kept and "Grace Hopper" in kept


async def test_forged_edit_buttons_change_nothing(bot: Any) -> None:
    from models.conversation import Conversation
    from tests.flows import book_to_review

    t = bot.telegram.traveller(4006)
    review = await book_to_review(t, bot.clock, pax=1)
    conversation = await Conversation.find_one(Conversation.chat_id == 4006)
    assert conversation is not None
    for arg in ("f1n", "f0e9", "f0q", "f0", "e7", "f-1n", "f0x" * 20, "f0e"[:2]):
        await t.press_data(f"{conversation.flow}:rv:{arg}"[:64], review.message_id)
    await t.press_data(f"{conversation.flow}:kv:", review.message_id)  # "Keep" with nothing being edited
    await bot.telegram.wait_until_callbacks_answered()
    after = await Conversation.find_one(Conversation.chat_id == 4006)
    assert after is not None and after.step == "review"
    assert after.draft["people"] == conversation.draft["people"]


async def test_infant_is_noted(bot: Any) -> None:
    t = bot.telegram.traveller(4004)
    await to_passengers(t, bot.clock, days_ahead=9)
    await t.send("Baby Lovelace")
    await t.wait_for("Date of birth")
    await t.send((bot.clock.now().date() - timedelta(days=200)).isoformat())
    noted = await t.wait_for("is under 2")  # alone in the booking: no lap to sit on
    assert "travels in a seat of their own" in noted.plain_text()


async def test_stale_buttons_get_a_notice_and_the_current_step(bot: Any) -> None:
    t = bot.telegram.traveller(4005)
    results = await search_one_line(t, "LHR", "JFK", travel_day(bot.clock, 9), 1)
    await t.send("/search LHR CDG " + travel_day(bot.clock, 10).isoformat())  # a new search
    await t.wait_for("tap a fare")
    await t.press("1. Economy", results)  # a fare button of the previous search
    current = await t.wait_for("tap a fare")
    assert "CDG" in current.plain_text()
    assert any("earlier step" in (a.get("text") or "") for a in t.callback_answers)
    await t.press_data("garbage", results.message_id)
    await t.wait_for("tap a fare")


async def test_cancel_aborts_and_releases_holds(bot: Any) -> None:
    from models import SeatHold

    t = bot.telegram.traveller(4006)
    await search_one_line(t, "LHR", "JFK", travel_day(bot.clock, 9), 2)
    await pick_first_fare(t)
    await pick_seats_for_me(t)
    assert await SeatHold.find(SeatHold.holder == "chat:4006").count() == 2
    await t.send("/cancel")
    done = await t.wait_for("Cancelled the booking in progress")
    assert "released 2 held seat(s)" in done.plain_text()
    assert await SeatHold.find(SeatHold.holder == "chat:4006").count() == 0
    await t.send("/mybookings")
    await t.wait_for("no bookings yet")
