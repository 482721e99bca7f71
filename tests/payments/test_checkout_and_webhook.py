"""Payment link → signed Stripe webhook → CONFIRMED, chat message and e-mail; and every way it can go wrong."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

from models import Booking, BookingStatus, SeatHold
from models.ops import Notification, WebhookEvent
from tests.fakes.stripe import build_event, sign_payload
from tests.flows import confirm_cancel, drain_outbox, eventually
from tests.paying import ADMIN_ID, WEBHOOK_SECRET, PayingBot


async def test_full_path_link_webhook_confirmation_chat_and_email(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3001, first_name="Ada")
    booking, session_id = await paying.booked_with_link(ada, pax=2)
    session = paying.stripe.sessions[session_id]
    assert session["amount_total"] == booking.price.total
    assert session["currency"] == booking.price.currency.lower()
    assert session["client_reference_id"] == str(booking.id)
    assert session["metadata"]["reference"] == booking.reference
    assert session["customer_email"] == "ada@example.com"
    assert len(paying.stripe.line_items[session_id]) == 2  # one line per passenger fare
    assert abs(session["expires_at"] - (time.time() + 31 * 60)) < 120
    holds = await SeatHold.find(SeatHold.booking_id == str(booking.id)).to_list()
    grace_ms = paying.bot.settings.HOLD_GRACE_MINUTES * 60_000  # holds outlive the session: Stripe may be late
    assert {h.expires_ms for h in holds} == {session["expires_at"] * 1000 + grace_ms}

    status, body = await paying.post_event(paying.completed_event(session_id))
    assert status == 200 and body["outcome"] == "confirmed"
    confirmed = await ada.wait_for("is confirmed")
    assert booking.reference in confirmed.plain_text()
    await paying.deliver()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    assert stored.payment.payment_intent_id and stored.payment.amount_paid == booking.price.total
    assert {h.status for h in await SeatHold.find(SeatHold.booking_id == str(booking.id)).to_list()} == {"booked"}
    mails = paying.sendgrid.messages_to("ada@example.com")
    assert len(mails) == 1
    mail = mails[0]
    assert booking.reference in (mail.subject or "")
    text, html = mail.text or "", mail.html or ""
    for expected in (booking.reference, "Ada Lovelace", "Charles Babbage", *booking.segments[0].seats, "local time"):
        assert expected in text and expected in html
    assert "Total paid" in text


async def test_bad_signatures_are_rejected_and_change_nothing(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3002)
    booking, session_id = await paying.booked_with_link(ada)
    event = paying.completed_event(session_id)
    payload = json.dumps(event).encode()
    stale = sign_payload(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 3600)
    cases = {
        "forged": f"t={int(time.time())},v1={'0' * 64}",
        "wrong secret": sign_payload(payload, "whsec_someone_else"),
        "stale timestamp": stale,
    }
    for name, signature in cases.items():
        status, _ = await paying.post_event(event, signature=signature)
        assert status == 400, name
    tampered = payload.replace(b'"paid"', b'"PAID"')
    status, _ = await paying.post_event(event, signature=sign_payload(payload, WEBHOOK_SECRET), body=tampered)
    assert status == 400
    status, _ = await paying.post_event(event, signature="")
    assert status == 400
    status, _ = await paying.post_event(event, body=b"not json")
    assert status == 400
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.PENDING
    assert await WebhookEvent.count() == 0


async def test_same_event_five_times_and_out_of_order_expiry(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3003)
    booking, session_id = await paying.booked_with_link(ada)
    event = paying.completed_event(session_id)
    outcomes = [(await paying.post_event(event))[1]["outcome"] for _ in range(5)]
    assert outcomes == ["confirmed"] + ["duplicate"] * 4
    expired = build_event("checkout.session.expired", {**paying.stripe.sessions[session_id], "status": "expired"})
    status, body = await paying.post_event(expired)
    assert status == 200 and body["outcome"] == "no_change"
    await drain_outbox(paying.services)  # anything the replays queued has reached the chat and SendGrid
    texts = [m.plain_text() for m in ada.messages()]
    assert sum("is confirmed" in t for t in texts) == 1
    assert not any("expired" in t for t in texts)
    assert len(paying.sendgrid.messages_to("ada@example.com")) == 1
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED


async def test_amount_mismatch_is_not_confirmed_and_admins_are_told(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3004)
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    booking, session_id = await paying.booked_with_link(ada)
    event = paying.completed_event(session_id, amount_total=booking.price.total - 100)
    status, body = await paying.post_event(event)
    assert status == 200 and body["outcome"] == "amount_mismatch"
    alert = await admin.wait_for("does not match")
    assert booking.reference in alert.plain_text()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.PENDING and stored.flag == "amount_mismatch"


async def test_late_payment_after_cancel_is_refunded(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3005)
    booking, session_id = await paying.booked_with_link(ada)
    await ada.send(f"/cancel {booking.reference}")
    await confirm_cancel(ada)
    await ada.wait_for("is cancelled")
    assert paying.stripe.sessions[session_id]["status"] == "expired"  # the open link was expired
    # Stripe can still deliver a payment that raced the expiry:
    paying.stripe.sessions[session_id]["status"] = "open"
    status, body = await paying.post_event(paying.completed_event(session_id))
    assert status == 200 and body["outcome"] == "refunded_late_payment"
    assert len(paying.stripe.refunds) == 1
    refund = next(iter(paying.stripe.refunds.values()))
    assert refund["amount"] == booking.price.total
    told = await ada.wait_for("refunded it in full")
    assert booking.reference in told.plain_text()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED and stored.payment.refund_id
    # a replay of the event refunds nothing more
    await paying.post_event(paying.completed_event(session_id) | {"id": "evt_other"})
    assert len(paying.stripe.refunds) == 1


async def test_sendgrid_500_then_202_sends_exactly_one_email(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3006)
    booking, session_id = await paying.booked_with_link(ada)
    paying.sendgrid.fail_next(500)
    await paying.post_event(paying.completed_event(session_id))
    await ada.wait_for("is confirmed")

    async def first_attempt_failed() -> Notification | None:
        await paying.deliver()
        found = await Notification.find_one(Notification.key == f"confirm-email:{booking.id}")
        return found if found is not None and found.attempts == 1 and found.status == "pending" else None

    note = await eventually(first_attempt_failed)
    assert "500" in note.last_error
    assert paying.sendgrid.messages_to("ada@example.com") == []
    paying.bot.clock.advance(timedelta(seconds=10))  # past the first backoff, without sleeping
    await paying.deliver()
    await paying.deliver()
    assert len(paying.sendgrid.messages_to("ada@example.com")) == 1
    note = await Notification.find_one(Notification.key == f"confirm-email:{booking.id}")
    assert note is not None and note.status == "sent"


async def test_double_tap_on_pay_creates_one_session(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3007)
    booking, _session = await paying.booked_with_link(ada)
    payments = paying.services.payments
    links = await asyncio.gather(payments.ensure_link(booking), payments.ensure_link(booking))
    assert {link.url for link in links} == {booking.payment.url}
    assert paying.stripe.created["checkout.session"] == 1
    # tapping the old "Confirm and pay" again shows the same link, not a second session
    review = [m for m in ada.messages() if "Please review" in m.plain_text()][-1]
    await ada.press("Confirm and pay", review)
    again = await ada.wait_for("already have")
    assert any(b.url == booking.payment.url for row in again.buttons for b in row)
    assert paying.stripe.created["checkout.session"] == 1


async def test_expired_session_offers_pay_again_which_creates_attempt_two(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3008)
    booking, first = await paying.booked_with_link(ada)
    expired = paying.stripe.expire_session(first)
    status, body = await paying.post_event(build_event("checkout.session.expired", expired))
    assert status == 200 and body["outcome"] == "expired"
    await ada.wait_for("payment link expired")
    await ada.press("Pay again")
    link = await ada.wait_for("attempt 2 of 3")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.payment.attempt == 2 and stored.payment.session_id != first
    assert any(b.url == stored.payment.url for row in link.buttons for b in row)
    assert paying.stripe.created["checkout.session"] == 2
    keys = [r.header("Idempotency-Key") for r in paying.stripe.requests if r.path == "/v1/checkout/sessions"]
    attempts = [(key or "").rsplit("-", 1)[0] for key in keys]  # each key ends with its session's expiry
    assert attempts == [f"flyo-checkout-{booking.id}-1", f"flyo-checkout-{booking.id}-2"]
