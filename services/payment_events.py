"""Stripe events → booking changes. The webhook route verifies the signature; this decides the effect.

Inbox first: the event id is inserted under a unique index before acting. A redelivery of a
processed event stops there; one whose first delivery died mid-way is processed again, which is
safe because every effect is a conditional update and every notification has a unique key.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo.errors import DuplicateKeyError

from models.booking import Booking, BookingStatus
from models.collections import collection
from models.ops import PaymentAttempt, WebhookEvent
from services import emails
from services.errors import InvalidTransition
from services.payment_texts import (
    confirmed_message,
    late_refund_message,
    payment_failed_message,
)
from services.payments import PaymentService

log = logging.getLogger(__name__)

PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
UNPAID_EVENTS = {"checkout.session.expired", "checkout.session.async_payment_failed"}


class PaymentEvents:
    def __init__(self, payments: PaymentService) -> None:
        self.payments = payments
        self.clock = payments.clock
        self.bookings = payments.bookings
        self.notify = payments.notifications

    async def handle(self, event: dict[str, Any]) -> str:
        """Apply one verified event; returns the outcome (for the inbox, logs and metrics)."""
        event_id, kind = str(event.get("id", "")), str(event.get("type", ""))
        if kind not in PAID_EVENTS | UNPAID_EVENTS:
            return "ignored"
        try:
            await WebhookEvent(event_id=event_id, type=kind, received_at=self.clock.now()).insert()
        except DuplicateKeyError:
            seen = await WebhookEvent.find_one(WebhookEvent.event_id == event_id)
            if seen is not None and seen.outcome != "received":
                return "duplicate"
        session = (event.get("data") or {}).get("object") or {}
        booking = await self._booking_for(session)
        if booking is None:
            outcome = "unknown_booking"
        elif kind in PAID_EVENTS:
            outcome = await self._paid(booking, session, kind)
        else:
            outcome = await self._unpaid(booking, session, expired=kind == "checkout.session.expired")
        await collection(WebhookEvent).update_one(
            {"event_id": event_id}, {"$set": {"outcome": outcome, "booking_reference": booking.reference
                                              if booking else None}})
        log.info("stripe %s → %s", kind, outcome, extra={"booking": booking.reference if booking else "-"})
        return outcome

    async def _booking_for(self, session: dict[str, Any]) -> Booking | None:
        booking_id = session.get("client_reference_id") or (session.get("metadata") or {}).get("booking_id")
        if booking_id:
            found = await self.bookings.get(str(booking_id))
            if found is not None:
                return found
        session_id = session.get("id")
        return await Booking.find_one({"payment.session_id": session_id}) if session_id else None

    async def _paid(self, booking: Booking, session: dict[str, Any], kind: str) -> str:
        if session.get("payment_status") not in ("paid", "no_payment_required"):
            return "awaiting_payment"  # e.g. a bank transfer: async_payment_succeeded will follow
        session_id = str(session.get("id", ""))
        intent = str(session.get("payment_intent") or "")
        amount = int(session.get("amount_total") or 0)
        currency = str(session.get("currency") or "").upper()
        await collection(PaymentAttempt).update_one({"session_id": session_id}, {"$set": {"status": "paid"}})
        if booking.status == BookingStatus.CANCELLED or (
            booking.status == BookingStatus.CONFIRMED and booking.payment.session_id != session_id
        ):
            return await self._refund_late(booking, intent, amount, session_id)
        if booking.status == BookingStatus.CONFIRMED:
            return "already_confirmed"
        if amount != booking.price.total or currency != booking.price.currency.upper():
            await collection(Booking).update_one({"_id": booking.id, "status": "PENDING"},
                                                 {"$set": {"flag": "amount_mismatch"}})
            await self.bookings.record(booking, "amount_mismatch", f"paid {amount} {currency}, expected "
                                       f"{booking.price.total} {booking.price.currency}")
            await self.notify.tell_admins(
                f"mismatch:{session_id}",
                f"⚠️ Payment for {booking.reference} does not match: Stripe says {amount} {currency}, the booking "
                f"expects {booking.price.total} {booking.price.currency} (minor units). Not confirmed; please "
                f"check session {session_id}.", reference=booking.reference)
            return "amount_mismatch"
        try:
            confirmed = await self.bookings.transition(
                booking, BookingStatus.CONFIRMED, detail=f"paid via {session_id}",
                extra={"payment.status": "paid", "payment.payment_intent_id": intent, "payment.amount_paid": amount,
                       "payment.session_id": session_id},
            )
        except InvalidTransition:
            fresh = await self.bookings.get(str(booking.id))
            if fresh is not None and fresh.status == BookingStatus.CANCELLED:  # cancelled a moment ago
                return await self._refund_late(fresh, intent, amount, session_id)
            return "already_confirmed"
        await self.payments.seats.book(str(confirmed.id))
        airports = self.payments.airports()
        await self.notify.chat(f"confirm-chat:{confirmed.id}", confirmed.chat_id,
                               confirmed_message(confirmed, airports), reference=confirmed.reference)
        subject, text, html = emails.confirmation(confirmed, airports)
        await self.notify.email(f"confirm-email:{confirmed.id}", confirmed.email, subject, text, html,
                                reference=confirmed.reference)
        return "confirmed"

    async def _refund_late(self, booking: Booking, intent: str, amount: int, session_id: str) -> str:
        if not intent:
            return "paid_without_intent"
        _refund_id, refunded, error = await self.payments.refund(booking, intent, amount, "late payment")
        if error:
            return "refund_failed"
        await self.notify.chat(f"late-refund-chat:{session_id}", booking.chat_id,
                               late_refund_message(booking, refunded), reference=booking.reference)
        note = "Your payment arrived after the cancellation and was refunded in full."
        subject, text, html = emails.cancellation(booking, self.payments.airports(), note)
        await self.notify.email(f"late-refund-email:{session_id}", booking.email, subject, text, html,
                                reference=booking.reference)
        return "refunded_late_payment"

    async def _unpaid(self, booking: Booking, session: dict[str, Any], *, expired: bool) -> str:
        session_id = str(session.get("id", ""))
        status = "expired" if expired else "failed"
        await collection(PaymentAttempt).update_one({"session_id": session_id}, {"$set": {"status": status}})
        # Only the booking's current session matters; an old attempt's or an out-of-order event changes nothing.
        changed = await collection(Booking).update_one(
            {"_id": booking.id, "status": "PENDING", "payment.session_id": session_id,
             "payment.status": "open"},
            {"$set": {"payment.status": status, "updated_ms": self.clock.now_ms()}},
        )
        if changed.modified_count != 1:
            return "no_change"
        fresh = await self.bookings.get(str(booking.id)) or booking
        can_retry = self.payments.can_retry(fresh)
        buttons = [[{"text": "💳 Pay again", "callback": f"*:pay:{fresh.id}"}]] if can_retry else \
            [[{"text": "🔎 Search again", "callback": "*:new:"}]]
        await self.notify.chat(f"{status}-chat:{session_id}", fresh.chat_id,
                               payment_failed_message(fresh, expired, can_retry, self.payments.attempts_left(fresh)),
                               buttons, reference=fresh.reference)
        return status
