"""Notification intents: services say what a message offers; only bot/notify.py turns that into buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.notify import keyboard
from models.ops import Notification
from services.notifications import PayAgain, PayNow, SearchAgain, intent_payload
from tests.flows import drain_outbox


def _buttons(payload: dict[str, Any]) -> list[list[tuple[str, object, object]]]:
    return [[(b.text, b.callback_data, b.url) for b in row] for row in keyboard(payload)]


def test_intents_are_stored_as_plain_data() -> None:
    assert intent_payload(PayAgain("65a1")) == {"kind": "pay_again", "booking_id": "65a1"}
    assert intent_payload(SearchAgain()) == {"kind": "search_again"}
    assert intent_payload(PayNow("https://checkout.stripe.com/c/pay/cs_1")) == {
        "kind": "pay_now", "url": "https://checkout.stripe.com/c/pay/cs_1"}


def test_intents_render_the_same_buttons_as_before() -> None:
    payload = {"chat_id": 1, "text": "x", "intents": [intent_payload(i) for i in (
        PayAgain("65a1b2"), SearchAgain(), PayNow("https://pay.example/cs_1"))]}
    assert _buttons(payload) == [[("💳 Pay again", "*:pay:65a1b2", None)], [("🔎 Search again", "*:new:", None)],
                                 [("💳 Pay now", None, "https://pay.example/cs_1")]]
    assert _buttons({"chat_id": 1, "text": "x", "intents": []}) == []
    assert _buttons({"chat_id": 1, "text": "x", "intents": [{"kind": "from_the_future"}]}) == []


OLD_SHAPE = {"chat_id": 7101, "text": "⌛ Booking <b>K7Q2MX</b> was cancelled.", "buttons": [
    [{"text": "💳 Pay again", "callback": "*:pay:65a1b2"}], [{"text": "🔎 Search again", "callback": "*:new:"}],
    [{"text": "💳 Pay now", "url": "https://pay.example/cs_1"}]]}


def test_the_old_payload_shape_still_renders() -> None:
    assert _buttons(OLD_SHAPE) == [[("💳 Pay again", "*:pay:65a1b2", None)], [("🔎 Search again", "*:new:", None)],
                                   [("💳 Pay now", None, "https://pay.example/cs_1")]]


async def test_a_row_queued_before_intents_is_still_delivered_with_its_buttons(bot: Any) -> None:
    """A notification written by the previous version (rows of ready-made buttons) sits in the database."""
    traveller = bot.telegram.traveller(7101)
    await Notification.get_pymongo_collection().insert_one({  # as the old code stored it
        "key": "auto-cancel:old-version", "channel": "chat", "payload": OLD_SHAPE, "status": "pending",
        "attempts": 0, "next_attempt_ms": 0, "claimed_until_ms": 0, "last_error": "",
        "created_at": datetime.now(UTC), "sent_ms": None, "booking_reference": "K7Q2MX"})
    bot.services.notifications.kick()
    await drain_outbox(bot.services)
    message = await traveller.wait_for("was cancelled")
    assert [[(b.text, b.callback_data, b.url) for b in row] for row in message.buttons] == [
        [("💳 Pay again", "*:pay:65a1b2", None)], [("🔎 Search again", "*:new:", None)],
        [("💳 Pay now", None, "https://pay.example/cs_1")]]


async def test_a_new_row_is_delivered_from_its_intents(bot: Any) -> None:
    traveller = bot.telegram.traveller(7102)
    await bot.services.notifications.chat("intents:new", 7102, "⏰ Pay soon.", [PayNow("https://pay.example/cs_2"),
                                                                              SearchAgain()])
    stored = await Notification.find_one(Notification.key == "intents:new")
    assert stored is not None and "buttons" not in stored.payload
    assert stored.payload["intents"] == [{"kind": "pay_now", "url": "https://pay.example/cs_2"},
                                         {"kind": "search_again"}]
    await drain_outbox(bot.services)
    message = await traveller.wait_for("Pay soon")
    assert [[(b.text, b.callback_data, b.url) for b in row] for row in message.buttons] == [
        [("💳 Pay now", None, "https://pay.example/cs_2")], [("🔎 Search again", "*:new:", None)]]
