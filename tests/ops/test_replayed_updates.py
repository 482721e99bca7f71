"""An update handled twice (issue #21): in webhook mode every update is stored before Telegram gets its 200, and a
replica that dies after saving a turn but before its replies went out leaves the update to be handled again by
another (services.telegram_inbox). Found by the three-replica test: applied again, the phone question's "Skip"
skipped the passport question too, and a replayed press met a later step and got only a toast — the traveller
waited for a question that never came. An update the chat applied already now asks the current question again.

Here the replay is the same Telegram update put into the Application's queue a second time, as the inbox does."""

from __future__ import annotations

from typing import Any

from telegram import Update

from models import Booking
from models.conversation import Conversation, Step
from tests.flows import fill_passenger, to_passengers
from tests.paying import PayingBot


async def replay(bot: Any, update: dict[str, Any]) -> None:
    application = bot.application
    await application.update_queue.put(Update.de_json(update, application.bot))


async def test_a_replayed_skip_does_not_skip_the_next_question(bot: Any) -> None:
    t = bot.telegram.traveller(18_601)
    await to_passengers(t, bot.clock)
    await t.send("Ada Lovelace")
    await t.wait_for("Date of birth")
    await t.send("1970-04-20")
    await t.wait_for("E-mail address")
    await t.send("ada@example.com")
    await t.wait_for("Phone number")
    skip = await t.send("Skip")
    await t.wait_for("Passport or ID")

    await replay(bot, skip)
    again = await t.wait_for(lambda m: True, timeout=10)
    assert "Passport or ID" in again.plain_text()  # asked again, not answered with the phone's "Skip"
    conv = await Conversation.find_one(Conversation.chat_id == 18_601)
    assert conv is not None and conv.step == Step.PAX  # still on the passengers' questions
    assert skip["update_id"] in conv.applied_updates
    await t.press("Skip")  # and the passport question answers as ever
    await t.wait_for("Please review your booking")


async def test_a_replayed_press_shows_where_the_chat_is(bot: Any) -> None:
    t = bot.telegram.traveller(18_602)
    await to_passengers(t, bot.clock)
    for text, answer in (("Ada Lovelace", "Date of birth"), ("1970-04-20", "E-mail address"),
                         ("ada@example.com", "Phone number"), ("Skip", "Passport or ID")):
        await t.send(text)
        await t.wait_for(answer)
    skip_passport = await t.press("Skip")
    await t.wait_for("Please review your booking")

    await replay(bot, skip_passport)
    again = await t.wait_for(lambda m: True, timeout=10)  # not a toast alone: the review, the current step
    assert "Please review your booking" in again.plain_text()
    answers = [c for c in bot.telegram.calls_of("answerCallbackQuery")
               if c.params.get("callback_query_id") == skip_passport["callback_query"]["id"]]
    assert answers  # the press is answered (a replay of an answered press: Telegram may refuse the second)


async def test_a_replayed_confirm_makes_no_second_booking_or_link(paying: PayingBot) -> None:
    t = paying.telegram.traveller(18_603)
    await to_passengers(t, paying.bot.clock)
    await fill_passenger(t, 0, "Ada Lovelace", "1970-04-20")
    await t.wait_for("Please review your booking")
    confirm = await t.press("Confirm and pay")
    await t.wait_for("Pay")
    await replay(paying.bot, confirm)
    await t.wait_for(lambda m: True, timeout=10)
    assert await Booking.find(Booking.user_id == 18_603).count() == 1
    assert len(paying.stripe.sessions) == 1
