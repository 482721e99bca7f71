"""Nothing irreversible without a "Yes": /cancel REF shows what happens, and only "Yes, cancel" does it, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from models import Booking, BookingStatus
from models.booking import BookingEvent
from models.cancel_request import CancelRequest
from services.cancellations import CONFIRM_MINUTES
from services.fare_rules import fee_of
from tests.paying import ADMIN_ID, PayingBot


async def _paid(paying: PayingBot, t: object) -> Booking:
    booking, session_id = await paying.booked_with_link(t)
    await paying.post_event(paying.completed_event(session_id))
    await t.wait_for("is confirmed")  # type: ignore[attr-defined]
    return booking


async def test_the_card_says_what_is_cancelled_and_the_refund_and_keep_it_changes_nothing(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(17001)
    booking = await _paid(paying, ada)
    await ada.send(f"/cancel {booking.reference}")
    card = (await ada.wait_for("Cancel booking")).plain_text()
    paid = booking.price.total
    back = paid - fee_of(paid)  # the first economy fare is Standard: refunded minus its fee (services.fare_rules)
    assert booking.reference in card and booking.first_flight.flight_number in card
    assert f"You get back £{back // 100:,}.{back % 100:02d} on the card you paid with" in card
    assert f"£{paid // 100:,}.{paid % 100:02d} paid minus a" in card
    assert "5–10 business days" in card and "can't be undone" in card
    assert paying.stripe.refunds == {}  # nothing happened yet
    await ada.press("Keep it")
    kept = await ada.wait_for(lambda m: m.edited and "is kept" in m.plain_text())
    assert not kept.button_labels()  # the card's buttons are gone
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED and paying.stripe.refunds == {}


async def test_yes_tapped_25_times_cancels_and_refunds_once_with_one_message(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(17002)
    booking = await _paid(paying, ada)
    await ada.send(f"/cancel {booking.reference}")
    card = await ada.wait_for("Cancel booking")
    await asyncio.gather(*(ada.press("Yes, cancel", card) for _tap in range(25)))
    outcome = await ada.wait_for(lambda m: m.edited and "is cancelled" in m.plain_text())
    assert "is on its way back to your card" in outcome.plain_text()
    await paying.telegram.wait_until_callbacks_answered()
    assert len(paying.stripe.refunds) == 1
    answered = [str(a.get("text", "")) for a in ada.callback_answers]
    assert sum("already answered" in a for a in answered) >= 20
    await paying.deliver()
    # One cancellation message in the chat: the card became the outcome; no second "has been cancelled".
    texts = [m.plain_text() for m in ada.messages()]
    assert sum("cancelled" in t and booking.reference in t for t in texts) == 1, texts


async def test_an_expired_or_foreign_card_cancels_nothing(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(17003)
    mallory = paying.telegram.traveller(17004)
    booking = await _paid(paying, ada)
    await ada.send(f"/cancel {booking.reference}")
    card = await ada.wait_for("Cancel booking")
    request = await CancelRequest.find_one(CancelRequest.reference == booking.reference)
    assert request is not None
    await mallory.send("/start")
    hello = await mallory.wait_for("")
    for data in (f"*:cx:{request.id}", "*:cx:000000000000000000000000", "*:cx:nonsense", "*:keep:" + "f" * 24):
        await mallory.press_data(data, hello.message_id)  # another user's card, unknown and forged ids
    await paying.telegram.wait_until_callbacks_answered()
    paying.bot.clock.advance(timedelta(minutes=CONFIRM_MINUTES + 1))
    await ada.press("Yes, cancel", card)
    await paying.telegram.wait_until_callbacks_answered()
    assert "expired" in str(ada.callback_answers[-1].get("text", ""))
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED and paying.stripe.refunds == {}


async def test_an_admin_cancel_keeps_its_reason_internal_and_can_pass_a_message(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(17005)
    admin = paying.telegram.traveller(ADMIN_ID)
    booking = await _paid(paying, ada)
    await admin.send(f"/cancel {booking.reference} duplicate of a phone booking -- Sorry, we rebooked you by phone.")
    card = await admin.wait_for("Cancel booking")
    assert "Sorry, we rebooked you by phone." in card.plain_text()  # the admin sees what the traveller will read
    await admin.press("Yes, cancel", card)
    done = await admin.wait_for("is cancelled")
    assert "with your message" in done.plain_text()
    told = (await ada.wait_for("has been cancelled")).plain_text()
    assert "cancelled by FlyO support" in told and "Message from FlyO: Sorry, we rebooked you by phone." in told
    assert "duplicate of a phone booking" not in told
    note = await BookingEvent.find_one(BookingEvent.booking_id == str(booking.id), BookingEvent.kind == "cancel_note")
    assert note is not None and note.detail == "duplicate of a phone booking"


async def test_an_unpaid_booking_card_says_nothing_was_paid(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(17006)
    booking, session_id = await paying.booked_with_link(ada)
    await ada.send(f"/cancel {booking.reference}")
    card = (await ada.wait_for("Cancel booking")).plain_text()
    assert "Nothing was paid" in card and "payment link stops working" in card
    await ada.press("Yes, cancel")
    await ada.wait_for(lambda m: m.edited and "is cancelled" in m.plain_text())
    assert paying.stripe.sessions[session_id]["status"] == "expired"
