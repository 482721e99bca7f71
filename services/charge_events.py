"""Stripe's money events after Checkout: refunds made in the dashboard, disputes, refunds that fail later.

Without them bookings drift from Stripe (a refunded booking still CONFIRMED with its seats, a failed
refund nobody hears of). Each effect is a conditional update plus keyed notifications, so the same
event twice, or our own refund echoed back by Stripe, changes nothing more.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from core.errors import InvalidTransition
from core.i18n import in_booking_language
from models.booking import Booking, BookingFlag, BookingStatus, PaymentStatus
from services.money import money
from services.stripe_amounts import from_stripe_amount
from services.trust_texts import admin_text, dashboard_refund_message, refund_failed_message

if TYPE_CHECKING:
    from services.payments import PaymentService

log = logging.getLogger(__name__)

CHARGE_EVENTS = {"charge.refunded", "charge.dispute.created", "refund.updated", "charge.refund.updated"}


class ChargeEvents:
    def __init__(self, payments: PaymentService) -> None:
        self.payments = payments
        self.bookings = payments.bookings
        self.repo = payments.bookings.repo
        self.notify = payments.notifications
        self.clock = payments.clock

    async def apply(self, kind: str, obj: dict[str, Any]) -> tuple[str, str | None]:
        intent = str(obj.get("payment_intent") or "")
        booking = await self.repo.by_payment_intent(intent) if intent else None
        if booking is None:
            return "unknown_booking", None
        if kind == "charge.refunded":
            outcome = await self._refunded(booking, obj)
        elif kind == "charge.dispute.created":
            outcome = await self._disputed(booking, obj)
        else:
            outcome = await self._refund_updated(booking, obj)
        return outcome, booking.reference

    @in_booking_language
    async def _refunded(self, booking: Booking, charge: dict[str, Any]) -> str:
        currency = str(charge.get("currency") or booking.price.currency)
        charged = (from_stripe_amount(int(charge["amount"]), currency) if charge.get("amount")
                   else booking.payment.amount_paid or booking.price.total)
        refunded = from_stripe_amount(int(charge.get("amount_refunded") or 0), currency)
        if refunded <= 0:
            return "no_change"
        if booking.payment.status == PaymentStatus.REFUNDED:
            return "already_refunded"  # our own refund (cancel, late payment) echoed back by Stripe
        currency = booking.price.currency
        if refunded < charged and booking.status == BookingStatus.CANCELLED:
            # A cancelled booking refunded in part: our own refund under the fare's conditions (services.fare_rules)
            # echoed back before it was stored, or a goodwill refund after a cancellation without one. Nothing to
            # reconcile (no seats, no confirmed booking): recorded, not flagged nor told as a dashboard refund.
            await self.bookings.record(booking, "partial_refund", f"{refunded} {currency} refunded of a cancelled "
                                       "booking")
            return "cancelled_partial"
        if refunded < charged:
            await self.repo.flag(booking, BookingFlag.PARTIALLY_REFUNDED)
            await self.bookings.record(booking, "partial_refund", f"{refunded} {currency} refunded in Stripe")
            await self._tell_both(booking, f"partial-refund:{booking.id}:{refunded}",
                                  dashboard_refund_message(booking, refunded, cancelled=False),
                                  f"partial refund of {money(refunded, currency)} made in Stripe; the booking stays "
                                  "CONFIRMED and is flagged")
            return "partially_refunded"
        was = booking.status
        if was != BookingStatus.CANCELLED:
            try:
                booking = await self.bookings.cancel(booking, "refunded in Stripe", actor="stripe")
            except InvalidTransition:
                booking = await self.bookings.get(str(booking.id)) or booking
        await self.repo.mark_refunded_in_stripe(booking)
        if self.payments.orders is not None:  # refunded in full: the airline order goes too (repeat-safe)
            await self.payments.orders.cancel(booking)
        await self.bookings.record(booking, "refund", f"{refunded} {currency} refunded in the Stripe dashboard")
        done = "cancelled and its seats released" if was != BookingStatus.CANCELLED else "was cancelled"
        await self._tell_both(booking, f"dashboard-refund:{booking.id}",
                              dashboard_refund_message(booking, refunded, cancelled=True),
                              f"refunded in full in Stripe ({money(refunded, currency)}); booking {done}")
        return "refunded"

    async def _tell_both(self, booking: Booking, key: str, traveller_text: str, admin_what: str) -> None:
        """The traveller's chat message and the admins' alert, each queued once per `key`."""
        await self.notify.chat(f"{key}:chat", booking.chat_id, traveller_text, reference=booking.reference)
        await self.notify.tell_admins(key, admin_text(booking.reference, admin_what), reference=booking.reference)

    @in_booking_language
    async def _disputed(self, booking: Booking, dispute: dict[str, Any]) -> str:
        dispute_id = str(dispute.get("id") or "")
        await self.repo.flag(booking, BookingFlag.DISPUTED)
        reason = str(dispute.get("reason") or "unknown reason")
        amount = from_stripe_amount(int(dispute.get("amount") or 0), str(dispute.get("currency") or
                                                                         booking.price.currency))
        await self.bookings.record(booking, "dispute", f"{dispute_id}: {reason}, {amount} {booking.price.currency}")
        await self.notify.tell_admins(
            f"dispute:{dispute_id or booking.id}",
            admin_text(booking.reference, f"the card holder opened a dispute over "
                       f"{money(amount, booking.price.currency)}; respond in the Stripe dashboard", reason),
            reference=booking.reference)
        return "disputed"

    @in_booking_language
    async def _refund_updated(self, booking: Booking, refund: dict[str, Any]) -> str:
        if refund.get("status") != "failed":
            return "no_change"
        refund_id = str(refund.get("id") or "")
        amount = (from_stripe_amount(int(refund["amount"]), str(refund.get("currency") or booking.price.currency))
                  if refund.get("amount") else booking.payment.amount_paid or booking.price.total)
        reason = str(refund.get("failure_reason") or "no reason given")
        await self.repo.mark_refund_failed(booking)
        await self.bookings.record(booking, "refund_failed", f"{refund_id}: {reason}")
        await self.notify.tell_admins(
            f"refund-failed-later:{refund_id}",
            admin_text(booking.reference, f"refund {refund_id} of {money(amount, booking.price.currency)} failed; "
                       "refund the traveller another way", reason), reference=booking.reference)
        await self.notify.chat(f"refund-failed-chat:{refund_id}", booking.chat_id,
                               refund_failed_message(booking, amount), reference=booking.reference)
        return "refund_failed"
