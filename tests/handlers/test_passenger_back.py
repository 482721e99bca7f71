"""◀ Back on the passenger questions (issue #15 item 4): each question goes back to the one before, showing what
was answered with ✅ Keep; from the first question back to the seat map with the seats still held."""

from __future__ import annotations

from typing import Any

from models import SeatHold
from services.seats import chat_holder
from tests.flows import to_passengers


async def test_back_from_the_birth_date_offers_the_name_to_keep(bot: Any) -> None:
    t = bot.telegram.traveller(18701)
    await to_passengers(t, bot.clock)
    await t.send("Ada Lovelace")
    question = await t.wait_for("Date of birth of Ada Lovelace")
    assert "◀ Back" in question.button_labels()
    await t.press("◀ Back", question)
    now = await t.wait_for("Now:")  # the question asked again, with its answer and ✅ Keep on it
    assert now.plain_text().startswith("Now: Ada Lovelace\n👤 Passenger 1 of 1")
    assert now.button_labels() == ["✅ Keep", "◀ Back"]
    await t.press("Keep", now)
    await t.wait_for("Date of birth of Ada Lovelace")
    await t.send("1990-12-10")
    await t.wait_for("E-mail address")  # a question not taken back: no "Now:" above it
    assert sum(1 for m in t.messages() if m.plain_text().startswith("Now:")) == 1


async def test_a_new_answer_after_back_replaces_the_old_one(bot: Any) -> None:
    t = bot.telegram.traveller(18702)
    await to_passengers(t, bot.clock)
    await t.send("Ada Lovelace")
    await t.wait_for("Date of birth")
    await t.send("1990-12-10")
    question = await t.wait_for("E-mail address")
    await t.press("◀ Back", question)
    await t.wait_for("Now: 1990-12-10")
    await t.send("1991-01-02")
    await t.wait_for("E-mail address")
    await t.send("ada@example.com")
    await t.wait_for("Phone number")
    await t.send("Skip")
    await t.wait_for("Passport or ID")
    await t.press("Skip")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert "born 1991-01-02" in review


async def test_back_from_the_phone_keyboard_and_from_the_first_question_to_the_seats(bot: Any) -> None:
    t = bot.telegram.traveller(18703)
    await to_passengers(t, bot.clock)
    held = sorted(h.seat for h in await SeatHold.find(SeatHold.holder == chat_holder(18703)).to_list())
    await t.send("Ada Lovelace")
    await t.wait_for("Date of birth")
    await t.send("1990-12-10")
    await t.wait_for("E-mail address")
    await t.send("ada@example.com")
    phone = await t.wait_for("Phone number")
    assert phone.reply_keyboard is not None and ["⏭ Skip", "◀ Back"] in phone.reply_keyboard
    await t.send("◀ Back")
    removed = await t.wait_for("◀ Back.")
    assert removed.remove_keyboard  # the reply keyboard goes away with its own message
    asked = await t.wait_for("Now: ada@example.com")
    assert "E-mail address" in asked.plain_text()
    await t.press("◀ Back", asked)
    for question in ("Date of birth", "Passenger 1 of 1"):
        asked = await t.wait_for(question)
        await t.press("◀ Back", asked)
    seat_map = await t.wait_for("All seats picked")
    assert f"Your seats: {', '.join(held)}" in seat_map.plain_text()
    assert sorted(h.seat for h in await SeatHold.find(SeatHold.holder == chat_holder(18703)).to_list()) == held
    await t.press("Continue", seat_map)
    await t.wait_for("Phone number")  # every answer passed on the way back kept: on where it was
    assert not any("Passenger 1 of 1" in m.plain_text() for m in t.messages() if m.message_id > seat_map.message_id)


async def test_back_pressed_25_times_goes_back_one_question_without_errors(bot: Any) -> None:
    t = bot.telegram.traveller(18704)
    await to_passengers(t, bot.clock)
    await t.send("Ada Lovelace")
    question = await t.wait_for("Date of birth")
    back = question.find_button("◀ Back").callback_data
    assert back is not None
    for _ in range(25):
        await t.press_data(back, question.message_id)
    await bot.telegram.wait_until_callbacks_answered()
    assert not any("went wrong" in m.plain_text() for m in t.messages())
    await t.wait_for("Passenger 1 of 1")
    assert sum(1 for m in t.messages() if "Passenger 1 of 1" in m.plain_text()) == 2  # once more, not 25 times
    assert not any("Tap a seat" in m.plain_text() or "All seats picked" in m.plain_text()
                   for m in t.messages() if m.message_id > question.message_id)
