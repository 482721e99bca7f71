"""Saved travellers in the booking (issue #15 item 5): after a first booking, the next one offers the people booked
for as buttons ("Ada Lovelace (you)", "Add someone new") and the contact e-mail and phone; /profile's deletion
takes them off the buttons too."""

from __future__ import annotations

from typing import Any

from models import SeatHold
from tests.flows import book_to_review, to_passengers


async def _first_booking(t: Any, bot: Any) -> None:
    await book_to_review(t, bot.clock, pax=2)
    await t.press("Confirm and pay")
    saved = await t.wait_for("Saved for next time")
    assert saved.plain_text() == ("💾 Saved for next time: Ada Lovelace, Charles Babbage. See, change or "
                                  "delete them with /profile.")


async def test_the_next_booking_offers_the_travellers_and_the_contact(bot: Any) -> None:
    t = bot.telegram.traveller(18801)
    await _first_booking(t, bot)
    question = await to_passengers(t, bot.clock, pax=2, days_ahead=12)
    assert "Or tap someone you booked for before:" in question.plain_text()
    labels = question.button_labels()
    assert labels[:3] == ["Ada Lovelace (you)", "Charles Babbage", "➕ Add someone new"]
    await t.press("Ada Lovelace (you)", question)
    await t.wait_for("✅ Passenger 1: Ada Lovelace, born")
    email = await t.wait_for("E-mail address")
    assert "📧 ada@example.com" in email.button_labels()
    await t.press("ada@example.com", email)
    await t.wait_for("Phone number")
    await t.send("Skip")
    await t.wait_for("Passport or ID")
    await t.press("Skip")
    second = await t.wait_for("Passenger 2 of 2")
    assert "Ada Lovelace (you)" not in second.button_labels()  # already in this booking
    await t.press("Charles Babbage", second)
    await t.wait_for("Passport or ID number of Charles Babbage")
    await t.press("Skip")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert "1. Ada Lovelace, born 1970-04-20" in review and "2. Charles Babbage, born 1971-04-21" in review
    assert "ada@example.com" in review
    await t.press("Confirm and pay")
    await t.wait_for("Pay")
    assert not any("Saved for next time" in m.plain_text() for m in t.messages()[-3:])  # said once only


async def test_add_someone_new_and_forged_or_foreign_traveller_buttons(bot: Any) -> None:
    t = bot.telegram.traveller(18802)
    await _first_booking(t, bot)
    other = bot.telegram.traveller(18803)
    question = await to_passengers(other, bot.clock, days_ahead=12)
    assert "Ada Lovelace (you)" not in question.button_labels()  # someone else's travellers are never offered
    mine = await to_passengers(t, bot.clock, days_ahead=13)
    ada = mine.find_button("Ada Lovelace (you)").callback_data
    assert ada is not None
    flow = (question.find_button("◀ Back").callback_data or "").split(":")[0]
    await other.press_data(f"{flow}:sv:{ada.rsplit(':', 1)[1]}", question.message_id)  # t's traveller, forged
    await other.press_data(f"{flow}:sv:{'f' * 24}", question.message_id)  # nobody's
    await bot.telegram.wait_until_callbacks_answered()
    assert [a.get("text") for a in other.callback_answers].count("This button is no longer active.") == 2
    assert not any("Passenger 1: Ada Lovelace" in m.plain_text() for m in other.messages())
    await t.press("Add someone new", mine)
    await bot.telegram.wait_until_callbacks_answered()
    assert "Type the new traveller's full name as in the passport." in [a.get("text") for a in t.callback_answers]
    for _ in range(25):
        await t.press_data(ada, mine.message_id)
    await bot.telegram.wait_until_callbacks_answered()
    await t.wait_for("E-mail address")
    assert sum(1 for m in t.messages() if "Passenger 1: Ada Lovelace" in m.plain_text()) == 1
    assert await SeatHold.find(SeatHold.holder == "chat:18802").count() >= 1


async def test_a_deleted_traveller_is_no_longer_offered(bot: Any) -> None:
    t = bot.telegram.traveller(18804)
    await _first_booking(t, bot)
    await t.send("/profile")
    card = await t.wait_for("Charles Babbage")
    await t.press("🗑 Delete", card)
    confirm = await t.wait_for("Delete Charles Babbage?")
    await t.press("Yes, delete", confirm)
    await t.wait_for("Deleted Charles Babbage")
    await bot.telegram.wait_until_callbacks_answered()
    question = await to_passengers(t, bot.clock, days_ahead=12)
    assert "Charles Babbage" not in question.button_labels()
    assert "Ada Lovelace (you)" in question.button_labels()
