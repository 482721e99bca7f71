"""Trust I: Stripe events from elsewhere, half-finished deliveries, and Stripe's refund/dispute events."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from models import Booking, BookingStatus, SeatHold
from models.ops import Notification, WebhookEvent
from tests.fakes.stripe import build_event
from tests.flows import confirm_cancel, eventually
from tests.invariants import assert_seat_and_money_invariants
from tests.paying import ADMIN_ID, PayingBot


async def test_foreign_checkout_session_is_ignored_with_200(paying: PayingBot) -> None:
    """Another integration on the same Stripe account: not ours, not a crash, not retried for days."""
    session = {"id": "cs_test_foreign", "object": "checkout.session", "client_reference_id": "order-12345",
               "metadata": {"booking_id": "not-an-object-id"}, "payment_status": "paid", "status": "complete",
               "amount_total": 1000, "currency": "usd", "payment_intent": "pi_foreign"}
    for kind in ("checkout.session.completed", "checkout.session.expired"):
        status, body = await paying.post_event(build_event(kind, session))
        assert (status, body["outcome"]) == (200, "unknown_booking")


async def test_session_must_be_one_of_the_bookings_own_attempts(paying: PayingBot) -> None:
    """client_reference_id alone proves nothing: a paid session that FlyO never created confirms nothing."""
    ada = paying.telegram.traveller(5201)
    booking, session_id = await paying.booked_with_link(ada)
    forged = {**paying.stripe.sessions[session_id], "id": "cs_test_someone_elses", "payment_status": "paid",
              "status": "complete", "payment_intent": "pi_other"}
    status, body = await paying.post_event(build_event("checkout.session.completed", forged))
    assert (status, body["outcome"]) == (200, "unknown_booking")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.PENDING


STEPS = ["inbox", "booking", "seats", "outbox", "outcome"]


@pytest.mark.parametrize("failing_step", STEPS)
async def test_first_attempt_dying_at_any_step_is_finished_by_the_retry(paying: PayingBot,
                                                                         failing_step: str) -> None:
    ada = paying.telegram.traveller(5210 + STEPS.index(failing_step))
    booking, session_id = await paying.booked_with_link(ada)
    events = paying.services.payment_events
    assert events is not None
    failed: list[str] = []

    async def fault(step: str) -> None:
        if step == failing_step and not failed:
            failed.append(step)
            raise AutoReconnect(f"injected failure before {step}")

    events.before_step = fault
    event = paying.completed_event(session_id)
    status, body = await paying.post_event(event)  # stored and answered; the worker's first attempt dies
    assert status == 200 and failed == [failing_step] and body["outcome"] == "received"
    inbox = await WebhookEvent.find_one(WebhookEvent.event_id == event["id"])
    assert inbox is not None and (inbox.status, inbox.attempts) == ("pending", 1) and "injected" in inbox.last_error
    assert inbox.next_attempt_ms > paying.bot.clock.now_ms()  # retried after the first backoff (5 s)
    paying.bot.clock.advance(timedelta(seconds=5))
    await paying.process_inbox()  # the retry (this call or the in-process worker) finishes what was left
    status, body = await paying.post_event(event)  # Stripe redelivers anyway: a no-op
    assert status == 200 and body["outcome"] == "duplicate"
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    assert {h.status for h in await SeatHold.find(SeatHold.booking_id == str(booking.id)).to_list()} == {"booked"}
    await ada.wait_for("is confirmed")

    async def one_email() -> bool:
        await paying.deliver()
        return len(paying.sendgrid.messages_to("ada@example.com")) == 1

    assert await eventually(one_email)
    await paying.deliver()
    assert sum("is confirmed" in m.plain_text() for m in ada.messages()) == 1
    assert len(paying.sendgrid.messages_to("ada@example.com")) == 1
    inbox = await WebhookEvent.find_one(WebhookEvent.event_id == event["id"])
    assert inbox is not None and inbox.outcome in ("confirmed", "already_confirmed") and inbox.status == "done"
    await assert_seat_and_money_invariants()


async def _confirmed(paying: PayingBot, user_id: int) -> tuple[Any, Booking, str]:
    traveller = paying.telegram.traveller(user_id)
    booking, session_id = await paying.booked_with_link(traveller)
    await paying.post_event(paying.completed_event(session_id))
    await traveller.wait_for("is confirmed")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    return traveller, stored, session_id


def _charge(booking: Booking, *, refunded: int, amount: int | None = None) -> dict[str, Any]:
    total = amount if amount is not None else booking.price.total
    return {"id": "ch_test_1", "object": "charge", "amount": total, "amount_refunded": refunded,
            "currency": booking.price.currency.lower(), "payment_intent": booking.payment.payment_intent_id,
            "refunded": refunded >= total, "status": "succeeded"}


async def test_dashboard_refund_cancels_frees_seats_and_tells_both(paying: PayingBot) -> None:
    ada, booking, _ = await _confirmed(paying, 5220)
    admin = paying.telegram.traveller(ADMIN_ID)
    event = build_event("charge.refunded", _charge(booking, refunded=booking.price.total))
    outcomes = [(await paying.post_event(event))[1]["outcome"] for _ in range(2)]  # the same event twice
    assert outcomes == ["refunded", "duplicate"]
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED and stored.payment.status == "refunded"
    assert await SeatHold.find(SeatHold.booking_id == str(booking.id)).count() == 0
    await ada.wait_for("refunded")
    await admin.wait_for(booking.reference)
    await paying.deliver()
    await asyncio.sleep(0)
    assert sum("refunded" in m.plain_text() for m in ada.messages()) == 1


async def test_partial_dashboard_refund_flags_and_keeps_the_booking(paying: PayingBot) -> None:
    ada, booking, _ = await _confirmed(paying, 5221)
    part = booking.price.total // 4
    status, body = await paying.post_event(build_event("charge.refunded", _charge(booking, refunded=part)))
    assert status == 200 and body["outcome"] == "partially_refunded"
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED and stored.flag == "partially_refunded"
    await ada.wait_for("partial refund")


async def test_our_own_refund_echo_is_a_no_op(paying: PayingBot) -> None:
    ada, booking, _ = await _confirmed(paying, 5222)
    await ada.send(f"/cancel {booking.reference}")
    await confirm_cancel(ada)
    await ada.wait_for("cancelled")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    before = await Notification.find(Notification.booking_reference == booking.reference).count()
    echo = build_event("charge.refunded", _charge(booking, refunded=booking.price.total))
    status, body = await paying.post_event(echo)
    assert status == 200 and body["outcome"] == "already_refunded"
    assert await Notification.find(Notification.booking_reference == booking.reference).count() == before


async def test_dispute_flags_and_alerts_admins(paying: PayingBot) -> None:
    _ada, booking, _ = await _confirmed(paying, 5223)
    admin = paying.telegram.traveller(ADMIN_ID)
    dispute = {"id": "dp_test_1", "object": "dispute", "amount": booking.price.total, "charge": "ch_test_1",
               "currency": booking.price.currency.lower(), "payment_intent": booking.payment.payment_intent_id,
               "reason": "fraudulent", "status": "needs_response"}
    status, body = await paying.post_event(build_event("charge.dispute.created", dispute))
    assert status == 200 and body["outcome"] == "disputed"
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.flag == "disputed"
    alert = await admin.wait_for("dispute")
    assert booking.reference in alert.plain_text()


@pytest.mark.parametrize("kind", ["refund.updated", "charge.refund.updated"])
async def test_failed_refund_is_flagged_and_both_are_told(paying: PayingBot, kind: str) -> None:
    ada, booking, _ = await _confirmed(paying, 5224 if kind == "refund.updated" else 5225)
    admin = paying.telegram.traveller(ADMIN_ID)
    await ada.send(f"/cancel {booking.reference}")
    await confirm_cancel(ada)
    await ada.wait_for("cancelled")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.payment.refund_id
    refund = {"id": stored.payment.refund_id, "object": "refund", "amount": booking.price.total,
              "currency": booking.price.currency.lower(), "payment_intent": booking.payment.payment_intent_id,
              "status": "failed", "failure_reason": "expired_or_canceled_card"}
    status, body = await paying.post_event(build_event(kind, refund))
    assert status == 200 and body["outcome"] == "refund_failed"
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.flag == "refund_failed"
    await admin.wait_for("failed")
    await ada.wait_for("could not be completed")
    # a succeeded refund update changes nothing
    status, body = await paying.post_event(build_event(kind, {**refund, "status": "succeeded"}))
    assert status == 200 and body["outcome"] == "no_change"


async def test_refund_event_for_an_unknown_payment_is_ignored(paying: PayingBot) -> None:
    charge = {"id": "ch_x", "object": "charge", "amount": 500, "amount_refunded": 500, "currency": "usd",
              "payment_intent": "pi_not_ours", "refunded": True}
    status, body = await paying.post_event(build_event("charge.refunded", charge))
    assert (status, body["outcome"]) == (200, "unknown_booking")


async def test_old_attempt_paid_late_confirms_and_closes_the_newer_link(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(5230)
    booking, first = await paying.booked_with_link(ada)
    paid_first = paying.completed_event(first)  # she paid link 1 at the last second; the webhook is late
    paying.stripe.sessions[first]["status"] = "open"  # meanwhile FlyO still thinks it open and makes link 2
    stored = await Booking.get(booking.id)
    assert stored is not None
    await paying.services.payments.gateway.expire_checkout(first)  # type: ignore[union-attr]
    expired = build_event("checkout.session.expired", {**paying.stripe.sessions[first]})
    await paying.post_event(expired)
    link = await paying.services.payments.ensure_link(stored)
    second = link.booking.payment.session_id
    assert second and second != first
    status, body = await paying.post_event(paid_first)
    assert (status, body["outcome"]) == (200, "confirmed")
    assert paying.stripe.sessions[second]["status"] == "expired"  # no second payment possible
