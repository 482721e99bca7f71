"""/profile: what a traveller reads about the people FlyO saved for them, editing one (with Keep and precise
errors), deleting with a confirmation that really deletes — and the unlucky and hostile presses and answers."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from models import Conversation, SavedTraveller, TravellerContact
from models.booking import Passenger
from models.conversation import Draft
from tests.flows import search_one_line, travel_day

ADA = Passenger(full_name="Ada Lovelace", birth_date=date(1985, 12, 10), document_number="533401234")
CHARLES = Passenger(full_name="Charles Babbage", birth_date=date(1971, 12, 26))


async def _saved(bot: Any, user_id: int, *people: Passenger) -> list[SavedTraveller]:
    travellers = bot.services.travellers
    await travellers.remember(user_id, list(people or (ADA, CHARLES)), "ada@example.com", "+442079460958")
    saved: list[SavedTraveller] = await travellers.list(user_id)
    return saved


def _answers(bot: Any, user_id: int) -> list[str | None]:
    """What each of the user's presses was answered with, in order."""
    return [q.answer_texts[-1] for q in bot.telegram.callback_queries() if q.user_id == user_id]


def _card(t: Any, name: str) -> Any:
    return next(m for m in t.messages() if m.plain_text().startswith(f"👤 {name}"))


async def test_profile_shows_the_saved_travellers_and_the_contact(bot: Any) -> None:
    ada = bot.telegram.traveller(19001)
    await _saved(bot, ada.user_id)
    await ada.send("/profile")
    await ada.wait_for("Your saved travellers")
    you = await ada.wait_for("Ada Lovelace")
    assert you.plain_text() == "👤 Ada Lovelace (you)\nBorn 10 December 1985\nDocument ••••••234"
    assert you.button_labels() == ["✏️ Edit", "🗑 Delete"]
    charles = await ada.wait_for("Charles Babbage")
    assert charles.plain_text() == "👤 Charles Babbage\nBorn 26 December 1971\nNo travel document saved"
    contact = await ada.wait_for("Contact:")
    assert contact.plain_text() == "Contact: ada@example.com · +44 20 7946 0958"
    assert contact.button_labels() == ["🗑 Delete everything"]


async def test_an_empty_profile_says_how_travellers_get_saved(bot: Any) -> None:
    ada = bot.telegram.traveller(19002)
    await ada.send("/profile")
    reply = await ada.wait_for("no saved travellers yet")
    assert "saved when you book" in reply.plain_text()
    assert not reply.has_inline_keyboard
    await ada.send("/help")
    assert "/profile" in (await ada.wait_for("/mybookings")).plain_text()


async def test_edit_asks_name_birth_date_and_document_each_with_keep(bot: Any) -> None:
    ada = bot.telegram.traveller(19003)
    await _saved(bot, ada.user_id)
    await ada.send("/profile")
    await ada.wait_for("Contact:")
    await ada.press("✏️ Edit", _card(ada, "Charles Babbage"))
    question = await ada.wait_for("Editing Charles Babbage")
    assert "full name" in question.plain_text()
    assert question.button_labels() == ["✅ Keep Charles Babbage", "Stop editing"]
    await ada.press("✅ Keep")
    question = await ada.wait_for("date of birth")
    await ada.send("31.02.1971")  # no such day: said precisely, the question stands
    error = await ada.wait_for("⚠️")
    assert error.plain_text() == "⚠️ 31.02.1971 is not a date in the calendar: February 1971 has 28 days."
    await ada.wait_for("date of birth")
    await ada.send("2999-01-01")
    assert "can't be in the future" in (await ada.wait_for("⚠️")).plain_text()
    await ada.wait_for("date of birth")
    await ada.send("1971-12-27")
    question = await ada.wait_for("travel document number")
    assert question.button_labels() == ["✅ Keep: none", "Stop editing"]
    await ada.send("x1")
    assert "5–20 letters or digits" in (await ada.wait_for("⚠️")).plain_text()
    await ada.wait_for("travel document number")
    await ada.send("c 77 123-456")
    saved = await ada.wait_for("Saved.")
    assert "Charles Babbage\nBorn 27 December 1971\nDocument ••••••456" in saved.plain_text()
    stored = await SavedTraveller.find_one(SavedTraveller.user_id == ada.user_id,
                                           SavedTraveller.full_name == "Charles Babbage")
    assert stored is not None and stored.birth_date == date(1971, 12, 27) and stored.document_number == "C77123456"
    # The edit is over: typed text is the booking flow's again.
    await search_one_line(ada, "LHR", "JFK", travel_day(bot.clock), 1)


async def test_an_edit_lapses_when_the_traveller_does_something_else(bot: Any) -> None:
    ada = bot.telegram.traveller(19004)
    saved = await _saved(bot, ada.user_id)
    await ada.send("/profile")
    await ada.wait_for("Contact:")
    await ada.press("✏️ Edit", _card(ada, "Ada Lovelace"))
    question = await ada.wait_for("Editing Ada Lovelace")
    await ada.send("/help")  # a turn of the booking flow: the edit is abandoned
    await ada.wait_for("/profile")
    await ada.send("Grace Hopper")  # not a name answer any more: the router's
    reply = await ada.wait_for(lambda m: "/profile" not in m.plain_text())
    assert "Editing" not in reply.plain_text() and "⚠️" not in reply.plain_text()
    await bot.telegram.wait_until_callbacks_answered()
    await ada.press("✅ Keep", question)
    await bot.telegram.wait_until_callbacks_answered()
    assert _answers(bot, ada.user_id)[-1] == "This button is no longer active."
    stored = await SavedTraveller.get(saved[0].id)
    assert stored is not None and stored.full_name == "Ada Lovelace"
    contact = await TravellerContact.find_one(TravellerContact.user_id == ada.user_id)
    assert contact is not None and contact.pending_edit is None


async def test_a_4kb_name_answer_gets_the_validators_message(bot: Any) -> None:
    ada = bot.telegram.traveller(19005)
    await _saved(bot, ada.user_id)
    await ada.send("/profile")
    await ada.wait_for("Contact:")
    await ada.press("✏️ Edit", _card(ada, "Ada Lovelace"))
    await ada.wait_for("Editing Ada Lovelace")
    await ada.send("Ada " * 1024)
    error = await ada.wait_for("⚠️")
    assert error.plain_text() == "⚠️ That name is longer than airlines accept (70 characters). Please shorten it."
    await ada.wait_for("Editing Ada Lovelace")
    await ada.send("<b>Ada</b> Lovelace")
    assert "can't be part of a name" in (await ada.wait_for("⚠️")).plain_text()
    assert (await SavedTraveller.find(SavedTraveller.user_id == ada.user_id).count()) == 2


async def test_delete_asks_first_then_really_deletes_also_from_the_draft(bot: Any) -> None:
    ada = bot.telegram.traveller(19006)
    saved = await _saved(bot, ada.user_id)
    charles_id = str(saved[1].id)
    await ada.send("/search")  # a booking in progress whose passenger 2 came from Charles
    await ada.wait_for("Where")
    conv = await Conversation.find_one(Conversation.chat_id == ada.chat_id)
    assert conv is not None
    await Conversation.get_pymongo_collection().update_one({"_id": conv.id}, {"$set": {"draft.people": [
        {"name": "Ada Lovelace", "dob": "1985-12-10"},
        {"name": "Charles Babbage", "dob": "1971-12-26", "saved": charles_id}]}})

    await ada.send("/profile")
    await ada.wait_for("Contact:")
    card = _card(ada, "Charles Babbage")
    await ada.press("🗑 Delete", card)
    confirm = await ada.wait_for("Delete Charles Babbage?")
    assert confirm.message_id == card.message_id and confirm.button_labels() == ["Yes, delete", "No"]
    await ada.press("No", confirm)
    back = await ada.wait_for("Charles Babbage")
    assert back.button_labels() == ["✏️ Edit", "🗑 Delete"]
    assert await SavedTraveller.get(saved[1].id) is not None
    await ada.press("🗑 Delete", back)
    await ada.wait_for("Delete Charles Babbage?")
    await ada.press("Yes, delete", card.message_id)
    done = await ada.wait_for("Deleted Charles Babbage")
    assert not done.has_inline_keyboard
    assert await SavedTraveller.get(saved[1].id) is None
    stored = await Conversation.find_one(Conversation.chat_id == ada.chat_id)
    assert stored is not None
    second = Draft.model_validate(stored.draft).people[1]
    assert not second.answered("name") and not second.answered("dob") and second.saved is None

    await ada.send("/profile")
    await ada.wait_for("Contact:")
    texts = " ".join(m.plain_text() for m in ada.messages()[-3:])
    assert "Ada Lovelace (you)" in texts and "Charles" not in texts


async def test_delete_pressed_25_times_deletes_once_without_an_error(bot: Any) -> None:
    ada = bot.telegram.traveller(19007)
    saved = await _saved(bot, ada.user_id)
    await ada.send("/profile")
    await ada.wait_for("Contact:")
    await ada.press("🗑 Delete", _card(ada, "Charles Babbage"))
    confirm = await ada.wait_for("Delete Charles Babbage?")
    yes = confirm.find_button("Yes, delete").callback_data
    await asyncio.gather(*(ada.press_data(yes, confirm.message_id) for _ in range(25)))
    await bot.telegram.wait_until_callbacks_answered()
    await ada.wait_for("Deleted Charles Babbage")
    deleted = "🗑 Deleted Charles Babbage: FlyO no longer remembers them."
    assert [m.plain_text() for m in ada.messages()].count(deleted) == 1
    answers = _answers(bot, ada.user_id)[-25:]
    assert answers.count(None) == 1 and answers.count("This button is no longer active.") == 24
    assert await SavedTraveller.get(saved[1].id) is None and await SavedTraveller.get(saved[0].id) is not None
    assert not bot.telegram.not_modified_edits()


async def test_forged_callback_with_another_users_traveller_deletes_nothing(bot: Any) -> None:
    ada = bot.telegram.traveller(19008)
    eve = bot.telegram.traveller(19009)
    saved = await _saved(bot, ada.user_id)
    await eve.send("/profile")
    empty = await eve.wait_for("no saved travellers yet")
    for data in (f"*:pfy:{saved[0].id}", f"*:pfd:{saved[0].id}", f"*:pfe:{saved[0].id}", "*:pfy:garbage",
                 "*:pfq:", "*:pfk:" + "x" * 58, f"*:pfk:{saved[0].id}.name"):
        await eve.press_data(data, empty.message_id)
        await bot.telegram.wait_until_callbacks_answered()
        assert _answers(bot, eve.user_id)[-1] == "This button is no longer active."
    await eve.assert_no_message()
    assert await SavedTraveller.find(SavedTraveller.user_id == ada.user_id).count() == 2


async def test_delete_everything_asks_first_and_forgets_the_contact_too(bot: Any) -> None:
    ada = bot.telegram.traveller(19010)
    await _saved(bot, ada.user_id)
    await ada.send("/profile")
    contact = await ada.wait_for("Contact:")
    await ada.press("🗑 Delete everything", contact)
    confirm = await ada.wait_for("Delete all 2 saved travellers and your contact details?")
    await ada.press("No", confirm)
    await ada.wait_for("Contact: ada@example.com")
    await ada.press("🗑 Delete everything", contact)
    confirm = await ada.wait_for("Delete all 2")
    yes = confirm.find_button("Yes, delete everything").callback_data
    await asyncio.gather(*(ada.press_data(yes, confirm.message_id) for _ in range(5)))
    await bot.telegram.wait_until_callbacks_answered()
    await ada.wait_for("Deleted 2 saved travellers and your contact details.")
    assert await SavedTraveller.find(SavedTraveller.user_id == ada.user_id).count() == 0
    assert await TravellerContact.find_one(TravellerContact.user_id == ada.user_id) is None
    await ada.send("/profile")
    await ada.wait_for("no saved travellers yet")
