"""Admin /resend, /cancel and /booking — and the refusal (audited) for everyone else."""

from __future__ import annotations

from typing import Any

from models import Booking, BookingStatus, SeatHold
from models.ops import AuditEntry
from tests.flows import confirm_cancel, eventually
from tests.paying import ADMIN_ID, PayingBot


async def test_admin_resend_sends_the_open_link_by_chat_and_email(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3101)
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    booking, _session = await paying.booked_with_link(ada)
    await admin.send(f"/resend {booking.reference}")
    await admin.wait_for("Sent the open link")
    again = await ada.wait_for("payment link again")
    assert any(b.url == booking.payment.url for row in again.buttons for b in row)
    await eventually(lambda: _mails(paying, "ada@example.com"))
    mail = paying.sendgrid.messages_to("ada@example.com")[0]
    assert booking.payment.url and booking.payment.url in (mail.text or "")
    assert booking.reference in (mail.subject or "")
    assert paying.stripe.created["checkout.session"] == 1
    entry = await AuditEntry.find_one(AuditEntry.action == "resend")
    assert entry is not None and entry.actor_id == ADMIN_ID and entry.outcome == "sent"
    assert entry.target == booking.reference


async def _mails(paying: PayingBot, address: str) -> list[Any]:
    await paying.deliver()
    return paying.sendgrid.messages_to(address)


async def test_resend_refused_for_cancelled_booking(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3102)
    admin = paying.telegram.traveller(ADMIN_ID)
    booking, _session_id = await paying.booked_with_link(ada)
    await ada.send(f"/cancel {booking.reference}")
    await confirm_cancel(ada)
    await ada.wait_for("is cancelled")
    await admin.send(f"/resend {booking.reference}")
    refusal = await admin.wait_for("Can't resend")
    assert "CANCELLED" in refusal.plain_text()


async def test_admin_cancel_of_paid_booking_refunds_and_tells_the_traveller(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3103)
    admin = paying.telegram.traveller(ADMIN_ID)
    booking, session_id = await paying.booked_with_link(ada)
    await paying.post_event(paying.completed_event(session_id))
    await ada.wait_for("is confirmed")
    await admin.send(f"/cancel {booking.reference} schedule change")
    await confirm_cancel(admin)
    outcome = await admin.wait_for("is cancelled")
    assert "is on its way back to your card" in outcome.plain_text()
    told = await ada.wait_for("has been cancelled")
    # The traveller reads the standard reason; the admin's own words are for the audit log and the history.
    assert "cancelled by FlyO support" in told.plain_text() and "refunded" in told.plain_text()
    assert "schedule change" not in told.plain_text()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED and stored.payment.refund_id
    assert [r["amount"] for r in paying.stripe.refunds.values()] == [booking.price.total]
    refund_keys = [r.header("Idempotency-Key") for r in paying.stripe.requests if r.path == "/v1/refunds"]
    assert refund_keys and (refund_keys[0] or "").startswith(f"flyo-refund-{booking.id}")
    assert await SeatHold.find(SeatHold.booking_id == str(booking.id)).count() == 0
    async def cancellation_mail() -> list[Any]:
        return [m for m in await _mails(paying, "ada@example.com") if "cancelled" in (m.subject or "")]

    assert len(await eventually(cancellation_mail)) == 1
    entry = await AuditEntry.find_one(AuditEntry.action == "cancel", AuditEntry.outcome == "cancelled")
    assert entry is not None and entry.actor_id == ADMIN_ID and "schedule change" in entry.detail
    await admin.send(f"/cancel {booking.reference}")  # a repeat is refused, nothing refunded twice
    await admin.wait_for("already cancelled")
    assert len(paying.stripe.refunds) == 1


async def test_non_admin_is_refused_and_the_attempt_is_audited(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3104)
    mallory = paying.telegram.traveller(3999, first_name="Mallory")
    booking, _ = await paying.booked_with_link(ada)
    for command in (f"/resend {booking.reference}", f"/booking {booking.reference}"):
        await mallory.send(command)
        await mallory.wait_for("for FlyO staff only")
    await mallory.send(f"/cancel {booking.reference}")
    await mallory.wait_for("no booking")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.PENDING
    refused = await AuditEntry.find(AuditEntry.actor_id == 3999).to_list()
    assert sorted(e.action for e in refused) == ["booking", "resend"]
    assert all(e.outcome == "refused" for e in refused)


async def test_admin_booking_details_show_payments_and_history(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3105)
    admin = paying.telegram.traveller(ADMIN_ID)
    booking, session_id = await paying.booked_with_link(ada)
    await admin.send(f"/booking {booking.reference}")
    details = (await admin.wait_for(booking.reference)).plain_text()
    assert "PENDING" in details and session_id in details and "created" in details and "payment_link" in details


async def test_traveller_cancels_own_pending_booking(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3106)
    booking, session_id = await paying.booked_with_link(ada)
    await ada.send(f"/cancel {booking.reference} changed plans")
    await confirm_cancel(ada)
    await ada.wait_for("is cancelled")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    assert paying.stripe.sessions[session_id]["status"] == "expired"
    assert paying.stripe.refunds == {}
