"""Cancelling a booking takes two steps: a card that says exactly what happens, then "Yes, cancel".

The card (handlers.cancel_card) shows what is cancelled, the refund (services.fare_rules: the fare's conditions,
the fee) and where and when it arrives; nothing
changes until the traveller — or the admin who asked — taps "Yes, cancel" on it, within CONFIRM_MINUTES, once.
The traveller reads a short standard reason; an admin's own words go to the audit log and the booking's history,
and an optional separate message is passed on to the traveller as written.

An admin's cancellation (FlyO support) refunds everything paid whatever the fare's rule: FlyO cancelled, not the
traveller. The refund is quoted again on "Yes, cancel": when it changed since the card (the 24 h line passed), the
card is used up and RefundChanged carries the new quote, so a fresh card says the new amount before anything moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock
from core.errors import FlyOError, NotFound
from core.i18n import _
from models.booking import Booking, BookingStatus
from models.cancel_request import CancelRequest
from repos.cancel_requests import CancelRequestRepo
from services.audit import audit
from services.bookings import BookingService
from services.fare_rules import RefundQuote, full_refund, refund_quote
from services.payments import CancelOutcome, PaymentService

CONFIRM_MINUTES = 10
# What the traveller reads as the reason (stored on the booking; English like every stored reason).
AT_YOUR_REQUEST = "cancelled at your request"
BY_SUPPORT = "cancelled by FlyO support"


class CardAnswered(FlyOError):
    """The card was already answered (cancelled or kept), expired, or is not this user's."""


class RefundChanged(FlyOError):
    """"Yes, cancel" on a card whose refund is no longer what it showed (the 24 h line passed): nothing changed."""

    def __init__(self, booking: Booking, quote: RefundQuote, shown: int) -> None:
        super().__init__(_("The refund has changed since this card was shown; here is the new one."))
        self.booking = booking
        self.quote = quote
        self.shown = shown  # what the used-up card had said


@dataclass(frozen=True)
class CancelPreview:
    request: CancelRequest
    booking: Booking
    quote: RefundQuote  # paid 0: nothing was paid

    @property
    def refund(self) -> int:  # minor units of booking.price.currency
        return self.quote.amount


NOTHING_PAID = RefundQuote(0, 0, "", 0)


def refund_of(booking: Booking, now: datetime, *, by_admin: bool = False) -> RefundQuote:
    """What cancelling now refunds: the fare's conditions (services.fare_rules); in full when FlyO support cancels."""
    if booking.status != BookingStatus.CONFIRMED or not booking.payment.payment_intent_id:
        return NOTHING_PAID
    return full_refund(booking) if by_admin else refund_quote(booking, now)


class Cancellations:
    def __init__(self, clock: Clock, bookings: BookingService, payments: PaymentService | None,
                 repo: CancelRequestRepo | None = None) -> None:
        self.clock = clock
        self.bookings = bookings
        self.payments = payments
        self.repo = repo or CancelRequestRepo()

    async def request(self, booking: Booking, user_id: int, *, by_admin: bool, internal_reason: str = "",
                      message: str = "") -> CancelPreview:
        """The card's content, stored so that its "Yes, cancel" can carry it out (and only once)."""
        actor = f"admin:{user_id}" if by_admin else f"user:{user_id}"
        quote = refund_of(booking, self.clock.now(), by_admin=by_admin)
        request = await self.repo.add(CancelRequest(
            booking_id=str(booking.id), reference=booking.reference, requested_by=user_id, actor=actor,
            internal_reason=internal_reason[:300], message_to_traveller=message[:500], refund_shown=quote.amount,
            created_at=self.clock.now(), expires_ms=self.clock.now_ms() + CONFIRM_MINUTES * 60_000))
        if by_admin:
            await audit(self.clock, user_id, "cancel", booking.reference, "asked", internal_reason)
        return CancelPreview(request, booking, quote)

    async def _answerable(self, request_id: str, user_id: int) -> CancelRequest:
        request = await self.repo.get(request_id)
        if request is None or request.requested_by != user_id:
            raise CardAnswered(_("This button is no longer active."))
        if request.used_ms is not None:
            raise CardAnswered(_("This card was already answered."))
        if request.expires_ms < self.clock.now_ms():
            raise CardAnswered(_("This confirmation expired; send /cancel {reference} again.").format(
                reference=request.reference))
        return request

    async def confirm(self, request_id: str, user_id: int) -> tuple[CancelRequest, CancelOutcome]:
        """"Yes, cancel": carry the request out, once however often it is tapped (CardAnswered otherwise)."""
        request = await self._answerable(request_id, user_id)
        if not await self.repo.claim(request, self.clock.now_ms()):
            raise CardAnswered(_("This card was already answered."))
        booking = await self.bookings.get(request.booking_id)
        if booking is None:
            raise NotFound(_("There is no booking {reference}.").format(reference=request.reference))
        by_admin = request.actor.startswith("admin:")
        quote = refund_of(booking, self.clock.now(), by_admin=by_admin)
        if quote.amount != request.refund_shown:  # never refund another amount than the card said
            raise RefundChanged(booking, quote, request.refund_shown)
        own_chat = booking.chat_id == user_id  # the traveller reads the result on the card: no second message
        reason = BY_SUPPORT if by_admin and not own_chat else AT_YOUR_REQUEST
        try:
            if self.payments is not None:
                outcome = await self.payments.cancel(booking, reason, request.actor, refund=quote.amount,
                                                     message=request.message_to_traveller, tell_chat=not own_chat)
            else:
                outcome = CancelOutcome(await self.bookings.cancel(booking, reason, request.actor), None, 0)
        except FlyOError as exc:
            if by_admin:
                await audit(self.clock, user_id, "cancel", request.reference, "failed", str(exc))
            raise
        if request.internal_reason:
            await self.bookings.record(outcome.booking, "cancel_note", request.internal_reason, request.actor)
        if by_admin:
            await audit(self.clock, user_id, "cancel", request.reference,
                        "refund_failed" if outcome.refund_error else "cancelled",
                        f"{request.internal_reason}; refunded {outcome.refunded}")
        return request, outcome

    async def keep(self, request_id: str, user_id: int) -> Booking | None:
        """"Keep it": the card can no longer cancel; the booking as it is."""
        request = await self._answerable(request_id, user_id)
        await self.repo.close(request, self.clock.now_ms())
        return await self.bookings.get(request.booking_id)
