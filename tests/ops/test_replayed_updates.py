"""An update handled again after its process died (issue #21): in webhook mode every update is stored before
Telegram gets its 200, and a replica that dies after saving a turn but before marking its update done leaves the
update to another replica's sweep (services.telegram_inbox). Found by the three-replica test: applied again, the
phone question's "Skip" skipped the passport question too, and a replayed press met a later step and got only a
toast — the traveller waited for a question that never came. Now the chat knows the update was applied, and the
turn's replies, saved with it, are sent again (handlers.replay).

Here the process "dies" by leaving the update's row not done with its lease run out; the sweep takes it over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db import free_port
from core.database import Database
from models import Booking
from models.conversation import Conversation
from models.telegram_update import TelegramUpdateRow
from repos.base import collection
from tests.flows import book_to_review, eventually, to_passengers
from tests.harness import RunningBot, running_bot
from tests.ops.test_telegram_webhook import SECRET
from tests.paying import PayingBot, paying_bot

pytestmark = pytest.mark.slow  # FlyO in webhook mode


def webhook_settings(port: int) -> dict[str, Any]:
    return {"HTTP_PORT": port, "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhooks/telegram",
            "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_UPDATE_LEASE_SECONDS": 30, "FLOOD_MAX_UPDATES": 100}


@pytest.fixture
async def webhook_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(inventory_db, telegram, tmp_path, **webhook_settings(free_port())) as running:
        yield running


async def handled_again(bot: RunningBot, update: dict[str, Any]) -> None:
    """The process that handled `update` died before marking it done: another's sweep takes it over."""
    update_id = update["update_id"]

    async def done() -> bool:
        row = await TelegramUpdateRow.find_one(TelegramUpdateRow.update_id == update_id)
        return row is not None and row.done
    await eventually(done, timeout=10)
    # As the row was before the done mark (which also clears what was typed): the process died before it.
    await collection(TelegramUpdateRow).update_one({"update_id": update_id}, {"$set": {"done": False, "body": update}})
    bot.clock.advance(timedelta(seconds=31))
    assert bot.services.sweeper is not None
    assert (await bot.services.sweeper.run()).updates_recovered == 1


async def answer(t: Any, text: str, expect: str) -> dict[str, Any]:
    update: dict[str, Any] = await t.send(text)
    await t.wait_for(expect)
    return update


async def to_passport_question(t: Any, bot: RunningBot) -> dict[str, Any]:
    """To the passport question (tests/flows.fill_passenger's answers, one by one); the phone's "Skip" update."""
    await to_passengers(t, bot.clock)
    for text, expect in (("Ada Lovelace", "Date of birth"), ("1970-04-20", "E-mail address"),
                         ("ada@example.com", "Phone number")):
        await answer(t, text, expect)
    return await answer(t, "Skip", "Passport or ID")


async def test_a_replayed_skip_sends_its_own_reply_again_and_skips_nothing(webhook_bot: RunningBot) -> None:
    t = webhook_bot.telegram.traveller(18_601)
    skip = await to_passport_question(t, webhook_bot)
    before = await Conversation.find_one(Conversation.chat_id == 18_601)

    await handled_again(webhook_bot, skip)
    again = [(await t.next_message(timeout=10)).plain_text() for _ in range(2)]
    assert "OK, no phone number" in again[0]  # the turn's own replies, as sent the first time
    assert "Passport or ID" in again[1]  # the phone's "Skip" is not taken for the passport's
    after = await Conversation.find_one(Conversation.chat_id == 18_601)
    assert before is not None and after is not None
    assert (after.rev, after.draft) == (before.rev, before.draft)  # nothing applied, nothing saved
    await t.press("Skip")  # the passport question answers as ever
    await t.wait_for("Please review your booking")


async def test_a_replayed_press_shows_its_replies_not_a_toast(webhook_bot: RunningBot) -> None:
    t = webhook_bot.telegram.traveller(18_602)
    await to_passport_question(t, webhook_bot)
    skip_passport = await t.press("Skip")
    review = await t.wait_for("Please review your booking")

    await handled_again(webhook_bot, skip_passport)
    again = await t.next_message(timeout=10)
    assert again.plain_text() == review.plain_text()
    assert again.button_labels() == review.button_labels()


async def test_a_replayed_help_is_the_help_again(webhook_bot: RunningBot) -> None:
    t = webhook_bot.telegram.traveller(18_604)
    help_update = await answer(t, "/help", "books flights right here")
    await handled_again(webhook_bot, help_update)
    assert "books flights right here" in (await t.next_message(timeout=10)).plain_text()


async def test_an_update_replayed_after_the_chat_moved_on_says_nothing(webhook_bot: RunningBot) -> None:
    t = webhook_bot.telegram.traveller(18_605)
    first = await answer(t, "/help", "books flights right here")
    await answer(t, "/search", "Where are you flying from")
    await handled_again(webhook_bot, first)
    await t.assert_no_message(0.5)  # the traveller has seen what followed


async def test_a_replayed_confirm_makes_no_second_booking_or_link(inventory_db: Database, telegram: Any,
                                                                  tmp_path: Path) -> None:
    async with paying_bot(inventory_db, telegram, tmp_path, **webhook_settings(free_port())) as paying:
        await _confirm_twice(paying)


async def _confirm_twice(paying: PayingBot) -> None:
    t = paying.telegram.traveller(18_603)
    await book_to_review(t, paying.bot.clock)
    confirm = await t.press("Confirm and pay")
    link = await t.wait_for(lambda m: any(b.url for row in m.buttons for b in row))
    await handled_again(paying.bot, confirm)
    again = await t.wait_for(lambda m: any(b.url for row in m.buttons for b in row), timeout=10)
    assert [b.url for row in again.buttons for b in row] == [b.url for row in link.buttons for b in row]
    assert await Booking.find(Booking.user_id == 18_603).count() == 1
    assert len(paying.stripe.sessions) == 1
