"""Fare rules as the traveller meets them: the conditions under the results, the refund minus the fee on the
cancellation card before "Yes, cancel", exactly that refund at Stripe, and no refund from 24 h before departure."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from models import Booking, BookingStatus, SeatHold
from models.cancel_request import CancelRequest
from models.ops import Notification
from services.fare_rules import fee_of
from services.money import money
from tests.fakes.amadeus import FakeAmadeus
from tests.fakes.stripe import build_event
from tests.flows import (
    continue_from_seats,
    drain_outbox,
    eventually,
    fill_passenger,
    pick_first_fare,
    pick_seats_for_me,
    search_one_line,
    travel_day,
)
from tests.harness import running_bot
from tests.paying import ADMIN_ID, PayingBot
from tests.services.amadeus_support import amadeus_fake, amadeus_settings

__all__ = ["amadeus_fake"]  # the fixture, imported for pytest


async def _paid(paying: PayingBot, chat: int) -> tuple[Any, Booking]:
    traveller = paying.telegram.traveller(chat)
    booking, session_id = await paying.booked_with_link(traveller)  # the first economy fare: Standard
    await paying.post_event(paying.completed_event(session_id))
    await traveller.wait_for("is confirmed")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    return traveller, stored


def _refunded(paying: PayingBot) -> list[int]:
    return [int(r["amount"]) for r in paying.stripe.refunds.values()]


def _charge(booking: Booking, refunded: int) -> dict[str, Any]:
    total = booking.payment.amount_paid or booking.price.total
    return {"id": "ch_test_fare", "object": "charge", "amount": total, "amount_refunded": refunded,
            "currency": booking.price.currency.lower(), "payment_intent": booking.payment.payment_intent_id,
            "refunded": refunded >= total, "status": "succeeded"}


async def test_the_results_say_each_cabins_conditions(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(15101)
    results = (await search_one_line(ada, "LHR", "JFK", travel_day(paying.bot.clock, 10), 1)).plain_text()
    assert "Economy: Standard fare: refund minus a 20% fee until 24 h before departure" in results
    assert "Business: Flex fare: full refund until departure" in results
    assert results.count("Standard fare") == 1  # one line per cabin, not one per flight


async def test_the_card_shows_the_refund_minus_the_fee_and_yes_refunds_exactly_that(paying: PayingBot) -> None:
    ada, booking = await _paid(paying, 15102)
    paid, currency = booking.payment.amount_paid, booking.price.currency
    fee = fee_of(paid)
    await ada.send(f"/cancel {booking.reference}")
    card = (await ada.wait_for("Cancel booking")).plain_text()
    assert f"You get back {money(paid - fee, currency)} on the card you paid with" in card
    assert f"That is {money(paid, currency)} paid minus a {money(fee, currency)} cancellation fee." in card
    assert "Standard fare: refund minus a 20% fee until 24 h before departure" in card
    assert paying.stripe.refunds == {}
    await ada.press("Yes, cancel")
    done = (await ada.wait_for(lambda m: m.edited and "is cancelled" in m.plain_text())).plain_text()
    assert f"{money(paid - fee, currency)} is on its way back to your card" in done
    assert _refunded(paying) == [paid - fee]
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED and stored.payment.status == "refunded"


async def test_from_24_hours_before_the_card_says_no_refund_and_still_cancels(paying: PayingBot) -> None:
    ada, booking = await _paid(paying, 15103)
    clock = paying.bot.clock
    clock.advance(booking.first_flight.departs_at - timedelta(hours=23) - clock.now())
    await ada.send(f"/cancel {booking.reference}")
    card = (await ada.wait_for("Cancel booking")).plain_text()
    assert "No refund: Standard fare: no refund from 24 h before departure. Cancelling still releases the seats." \
        in card
    assert "You get back" not in card
    await ada.press("Yes, cancel")
    done = (await ada.wait_for(lambda m: m.edited and "is cancelled" in m.plain_text())).plain_text()
    assert "No refund, as the card said." in done and "on its way back" not in done
    assert paying.stripe.refunds == {}  # no call to Stripe at all
    assert await SeatHold.find(SeatHold.booking_id == str(booking.id)).count() == 0  # the seats are free
    await drain_outbox(paying.services)
    [mail] = [m for m in paying.sendgrid.messages_to("ada@example.com") if "cancelled" in (m.subject or "").lower()]
    assert "No refund is due under your fare's conditions." in (mail.text or "")  # not silence about the money


async def test_the_24_hour_line_passing_between_card_and_yes_shows_a_fresh_card(paying: PayingBot) -> None:
    ada, booking = await _paid(paying, 15104)
    clock = paying.bot.clock
    paid, currency = booking.payment.amount_paid, booking.price.currency
    clock.advance(booking.first_flight.departs_at - timedelta(hours=24, minutes=2) - clock.now())
    await ada.send(f"/cancel {booking.reference}")
    first = await ada.wait_for("Cancel booking")
    assert f"You get back {money(paid - fee_of(paid), currency)}" in first.plain_text()
    clock.advance(timedelta(minutes=3))  # the card has not expired, but the refund is gone
    await ada.press("Yes, cancel", first)

    async def redrawn() -> list[Any]:
        shown = ada.messages()
        old = [m for m in shown if m.message_id == first.message_id and "refund changed" in m.plain_text()]
        new = [m for m in shown if m.message_id > first.message_id and "Cancel booking" in m.plain_text()]
        return [old[0], new[0]] if old and new else []

    old, fresh = await eventually(redrawn)
    assert f"{money(paid - fee_of(paid), currency)} is no longer due" in old.plain_text() and not old.button_labels()
    assert "No refund: Standard fare: no refund from 24 h before departure" in fresh.plain_text()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED and paying.stripe.refunds == {}
    used = await CancelRequest.find(CancelRequest.reference == booking.reference).sort("created_at").first_or_none()
    assert used is not None and used.used_ms is not None
    await ada.press_data(f"*:cx:{used.id}", first.message_id)  # the old card's button, replayed: used up
    await paying.telegram.wait_until_callbacks_answered()
    assert "already answered" in str(ada.callback_answers[-1].get("text", ""))
    await ada.press("Yes, cancel", fresh)
    await ada.wait_for(lambda m: m.edited and "is cancelled" in m.plain_text())
    assert paying.stripe.refunds == {}


async def test_yes_pressed_25_times_refunds_the_quoted_amount_once(paying: PayingBot) -> None:
    ada, booking = await _paid(paying, 15105)
    paid = booking.payment.amount_paid
    await ada.send(f"/cancel {booking.reference}")
    card = await ada.wait_for("Cancel booking")
    await asyncio.gather(*(ada.press("Yes, cancel", card) for _tap in range(25)))
    await ada.wait_for(lambda m: m.edited and "is cancelled" in m.plain_text())
    await paying.telegram.wait_until_callbacks_answered()
    assert _refunded(paying) == [paid - fee_of(paid)]


async def test_an_admin_cancel_refunds_in_full_whatever_the_fare(paying: PayingBot) -> None:
    ada, booking = await _paid(paying, 15106)
    admin = paying.telegram.traveller(ADMIN_ID)
    paid, currency = booking.payment.amount_paid, booking.price.currency
    paying.bot.clock.advance(booking.first_flight.departs_at - timedelta(hours=5) - paying.bot.clock.now())
    await admin.send(f"/cancel {booking.reference} flight cancelled by the airline")
    card = (await admin.wait_for("Cancel booking")).plain_text()
    assert f"You get back {money(paid, currency)}" in card and "Cancelled by FlyO support: full refund" in card
    assert "cancellation fee" not in card
    await admin.press("Yes, cancel")
    await admin.wait_for("is cancelled")
    assert _refunded(paying) == [paid]
    told = (await ada.wait_for("has been cancelled")).plain_text()
    assert f"We refunded {money(paid, currency)} to your card." in told


async def test_the_echo_of_our_partial_refund_is_not_a_dashboard_refund(paying: PayingBot) -> None:
    ada, booking = await _paid(paying, 15107)
    await ada.send(f"/cancel {booking.reference}")
    await ada.press("Yes, cancel", await ada.wait_for("Cancel booking"))
    await ada.wait_for(lambda m: m.edited and "is cancelled" in m.plain_text())
    [refund] = _refunded(paying)
    assert refund < booking.payment.amount_paid
    before = await Notification.find(Notification.booking_reference == booking.reference).count()
    status, body = await paying.post_event(build_event("charge.refunded", _charge(booking, refund)))
    assert (status, body["outcome"]) == (200, "already_refunded")
    # Stripe's echo may also arrive before our refund was stored: the booking is cancelled, nothing is flagged.
    await Booking.find_one(Booking.id == booking.id).update({"$set": {"payment.status": "paid"}})
    racing = build_event("charge.refunded", _charge(booking, refund))
    status, body = await paying.post_event(racing)
    assert (status, body["outcome"]) == (200, "cancelled_partial")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.flag is None and stored.status == BookingStatus.CANCELLED
    assert await Notification.find(Notification.booking_reference == booking.reference).count() == before
    await paying.deliver()
    assert not [m for m in ada.messages() if "partial refund" in m.plain_text()]


async def test_a_partial_refund_in_the_dashboard_is_still_flagged(paying: PayingBot) -> None:
    ada, booking = await _paid(paying, 15108)
    part = booking.payment.amount_paid - fee_of(booking.payment.amount_paid)  # the same amount as a fare refund
    status, body = await paying.post_event(build_event("charge.refunded", _charge(booking, part)))
    assert (status, body["outcome"]) == (200, "partially_refunded")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED and stored.flag == "partially_refunded"
    await ada.wait_for("partial refund")


async def _paid_business(paying: PayingBot, chat: int) -> tuple[Any, Booking]:
    traveller = paying.telegram.traveller(chat)
    await search_one_line(traveller, "LHR", "JFK", travel_day(paying.bot.clock, 10), 1)
    await pick_first_fare(traveller, "Business")
    await pick_seats_for_me(traveller)
    await continue_from_seats(traveller)
    await fill_passenger(traveller, 0, "Ada Lovelace", "1970-04-20", "ada@example.com")
    review = (await traveller.wait_for("Please review your booking")).plain_text()
    assert "Business" in review
    await traveller.press("Confirm and pay")
    await traveller.wait_for("Pay")
    booking = await Booking.find(Booking.user_id == traveller.user_id).sort("-created_at").first_or_none()
    assert booking is not None and booking.payment.session_id
    await paying.post_event(paying.completed_event(booking.payment.session_id))
    await traveller.wait_for("is confirmed")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    return traveller, stored


async def test_a_flex_business_fare_refunds_in_full_until_departure(paying: PayingBot) -> None:
    ada, booking = await _paid_business(paying, 15109)
    assert [s.fare_rule for s in booking.segments] == ["flex"]
    paid, currency = booking.payment.amount_paid, booking.price.currency
    clock = paying.bot.clock
    clock.advance(booking.first_flight.departs_at - timedelta(hours=3) - clock.now())  # inside 24 h: still in full
    await ada.send(f"/cancel {booking.reference}")
    card = (await ada.wait_for("Cancel booking")).plain_text()
    assert f"You get back {money(paid, currency)}" in card and "Flex fare: full refund until departure" in card
    assert "cancellation fee" not in card
    await ada.press("Yes, cancel")
    await ada.wait_for(lambda m: m.edited and "is cancelled" in m.plain_text())
    assert _refunded(paying) == [paid]


async def test_a_4kb_or_garbage_cancel_refunds_nothing(paying: PayingBot) -> None:
    ada, booking = await _paid(paying, 15110)
    for text in (f"/cancel {'X' * 4000}", "/cancel ../../$where", f"/cancel {booking.reference.lower()}x"):
        await ada.send(text)
        await ada.wait_for(lambda m: "Cancel booking" not in m.plain_text())
    await ada.press_data("*:cx:" + "9" * 24, ada.messages()[-1].message_id)  # a forged card id
    await paying.telegram.wait_until_callbacks_answered()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED and paying.stripe.refunds == {}


@pytest.mark.slow
async def test_live_fares_follow_the_airlines_refundable_flag(inventory_db: Any, telegram: Any, tmp_path: Path,
                                                              amadeus_fake: FakeAmadeus) -> None:
    """BA117 is refundable (Flex), VS3 is not (Light): each economy fare's conditions are under the results."""
    async with running_bot(inventory_db, telegram, tmp_path, **amadeus_settings(amadeus_fake)) as live:
        ada = live.telegram.traveller(15111)
        text = (await search_one_line(ada, "LHR", "JFK", travel_day(live.clock), 1)).plain_text()
        assert "Economy: Flex fare: full refund until departure" in text
        assert "Economy: Light fare: no refund if you cancel" in text
        assert "Standard fare" not in text
