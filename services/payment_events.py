"""Stripe events → booking changes. The webhook route verifies the signature and stores the event in the inbox
(services.inbox); the inbox worker calls `apply`, which decides the effect.

The outcome is written to the inbox last. A redelivery of a stored event stops at the inbox's unique index; an
attempt that died anywhere in between is retried by the worker, which runs `apply` to the end again — safe
because every effect is a conditional update or a keyed insert (seats booked by holder, notifications by key).
The same `fulfil` finishes a confirmation for the sweep (a paid session whose webhook never came, a
confirmation cut short).

`before_step` is a fault-injection point for tests (a no-op in production): it is awaited before
each write of an attempt, so a test can kill the attempt between any two writes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from core.errors import InvalidTransition, PaymentError, SeatUnavailable
from core.i18n import _, in_booking_language
from models.airline_order import AirlineOrderStatus
from models.booking import Booking, BookingFlag, BookingStatus, PaymentStatus, Segment
from models.ops import AttemptStatus
from models.seat import seat_key
from repos.bookings import BookingRepo
from repos.payments import PaymentRepo
from services import emails
from services.airline_orders import OrderRetryLater
from services.charge_events import CHARGE_EVENTS, ChargeEvents
from services.flights import FlightSearch
from services.inbox import StripeInbox
from services.notifications import Intent, PayAgain, SearchAgain
from services.payment_texts import late_refund_message, order_failed_message, payment_failed_message
from services.payments import PaymentService, checkout_lines
from services.seat_choice import suggest_seats
from services.stripe_amounts import checkout_total, from_stripe_amount
from services.trust_texts import no_seat_message

log = logging.getLogger(__name__)

PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
UNPAID_EVENTS = {"checkout.session.expired", "checkout.session.async_payment_failed"}
# What the Stripe endpoint must be subscribed to (README, Payments).
HANDLED_EVENTS = frozenset(PAID_EVENTS | UNPAID_EVENTS | CHARGE_EVENTS)
SUBSCRIBED_EVENTS = sorted(HANDLED_EVENTS)
SWEEP_BATCH = 200


async def _no_fault(step: str) -> None:
    return None


class PaymentEvents:
    def __init__(self, payments: PaymentService, flights: FlightSearch) -> None:
        self.payments = payments
        self.flights = flights
        self.clock = payments.clock
        self.bookings = payments.bookings
        self.notify = payments.notifications
        self.charges = ChargeEvents(payments)
        self.repo: BookingRepo = payments.bookings.repo
        self.attempts: PaymentRepo = payments.attempts
        self.before_step: Callable[[str], Awaitable[None]] = _no_fault
        self.inbox = StripeInbox(self.clock, self, self.notify, HANDLED_EVENTS, self.attempts)
        self.inbox.on_dead = self._given_up

    async def _given_up(self, kind: str, obj: dict[str, Any]) -> None:
        """The inbox set a paid event aside as dead: a booking it confirmed (and so marked fulfilled) may lack its
        seats or messages — unmark it, so the sweep's `finish_confirmations` keeps trying."""
        if kind in PAID_EVENTS and obj.get("id"):
            await self.repo.unmark_fulfilled(str(obj["id"]))

    async def apply(self, kind: str, obj: dict[str, Any]) -> tuple[str, str | None]:
        """The effects of one event (its `data.object`), repeat-safe; returns (outcome, booking reference)."""
        await self.before_step("inbox")
        reference: str | None = None
        if kind in CHARGE_EVENTS:
            outcome, reference = await self.charges.apply(kind, obj)
        else:
            booking = await self.booking_for_session(obj)
            reference = booking.reference if booking else None
            if booking is None:
                outcome = "unknown_booking"
            elif kind in PAID_EVENTS:
                outcome = await self.paid(booking, obj, via_inbox=True)
            else:
                outcome = await self._unpaid(booking, obj, expired=kind == "checkout.session.expired")
        await self.before_step("outcome")
        log.info("stripe %s → %s", kind, outcome, extra={"booking": reference or "-"})
        return outcome, reference

    async def booking_for_session(self, session: dict[str, Any]) -> Booking | None:
        """The booking whose own payment attempt this session is; None for anything else.

        `client_reference_id` and metadata are not trusted alone: another integration on the same Stripe
        account, or a session FlyO never created, must not confirm (or crash on) a booking.
        """
        session_id = str(session.get("id") or "")
        if not session_id:
            return None
        # Usually the booking's current attempt (one read); an older attempt's session through its attempt row.
        current = await self.repo.by_session(session_id)
        if current is not None:
            return current
        attempt = await self.attempts.attempt(session_id)
        return await self.bookings.get(attempt.booking_id) if attempt is not None else None

    # ---- paid ------------------------------------------------------------------------------------------
    @in_booking_language
    async def paid(self, booking: Booking, session: dict[str, Any], *, via_inbox: bool = False) -> str:
        """A paid session: confirm and finish the booking, or refund a payment that came too late.

        `via_inbox`: called by the inbox worker, which retries the event until it is done — so the confirm marks
        the booking fulfilled at once (one write fewer) and a retry always finishes what is left. Called by the
        sweep, the booking is marked fulfilled when finished (`finish_confirmations` completes a cut-short one).
        """
        if session.get("payment_status") not in ("paid", "no_payment_required"):
            return "awaiting_payment"  # e.g. a bank transfer: async_payment_succeeded will follow
        session_id = str(session.get("id", ""))
        intent = str(session.get("payment_intent") or "")
        currency = str(session.get("currency") or "").upper()
        charged = int(session.get("amount_total") or 0)  # Stripe's units (ISK in hundredths, KWD in tens of fils)
        amount = from_stripe_amount(charged, currency or booking.price.currency)
        if booking.payment.session_id != session_id or booking.status != BookingStatus.PENDING:
            # Not the booking's current attempt being paid (an older link, a repeat, a late payment): the attempt
            # row says so. The current attempt's row is not written: the booking's payment status is its record.
            await self.attempts.mark_attempt(session_id, AttemptStatus.PAID)
        if booking.status == BookingStatus.CANCELLED or (
            booking.status == BookingStatus.CONFIRMED and booking.payment.session_id != session_id
        ):
            return await self._refund_late(booking, intent, amount, session_id)
        if booking.status == BookingStatus.PENDING and (
                charged != checkout_total((line.amount for line in checkout_lines(booking)), booking.price.currency)
                or currency != booking.price.currency.upper()):
            return await self._mismatch(booking, session_id, amount, currency)
        await self.before_step("booking")
        # "confirmed" only for the delivery that made the transition; a repeat still finishes what is left.
        outcome = "confirmed" if booking.status == BookingStatus.PENDING else "already_confirmed"
        # An older attempt was paid while a newer link is open: that link must not take a second payment.
        superseded = booking.payment.session_id if (
            booking.status == BookingStatus.PENDING and booking.payment.session_id not in (None, session_id)
            and booking.payment.status in (PaymentStatus.OPEN, PaymentStatus.CREATING)) else None
        try:
            booking = await self.bookings.confirm(
                booking, session_id=session_id, payment_intent=intent, amount_paid=amount, fulfilled=via_inbox,
            ) if booking.status == BookingStatus.PENDING else booking
        except InvalidTransition:
            fresh = await self.bookings.get(str(booking.id))
            if fresh is None:
                return "unknown_booking"
            if fresh.status == BookingStatus.CANCELLED or fresh.payment.session_id != session_id:
                return await self._refund_late(fresh, intent, amount, session_id)
            booking, outcome = fresh, "already_confirmed"
        if superseded and outcome == "confirmed" and self.payments.gateway is not None:
            try:
                await self.payments.gateway.expire_checkout(superseded)
            except PaymentError as exc:
                log.warning("could not expire superseded session %s: %s", superseded, exc,
                            extra={"booking": booking.reference})
        if booking.fulfilled_ms is not None and not via_inbox:
            return "already_confirmed"
        return await self.fulfil(booking, mark=not via_inbox) or outcome

    @in_booking_language
    async def fulfil(self, booking: Booking, *, mark: bool = True) -> str | None:
        """Finish a CONFIRMED booking: its seats booked (or replaced), a live fare's airline order made, the chat
        message and e-mail queued; then marked fulfilled (`mark`: unless the inbox owns finishing it).

        Repeat-safe; returns an outcome only when it could not seat the traveller or the airline refused the
        order, and refunded instead. Raises OrderRetryLater while the airline order should be tried again.
        """
        await self.before_step("seats")
        booking = await self._secure_seats(booking)
        if booking.status != BookingStatus.CONFIRMED:
            return "refunded_no_seat"
        orders = self.payments.orders
        live = orders.live_segments(booking) if orders is not None else []
        if orders is not None and live:  # every live segment, in one order; local ones are FlyO's own
            await self.before_step("order")
            flights = {s.flight.flight_id: await self.flights.get(s.flight.flight_id) for _i, s in live}
            order = await orders.place(booking, flights)
            if order.status == AirlineOrderStatus.FAILED:
                return await self._refund_order_failed(booking, order.last_error or "unknown error")
            if order.status == AirlineOrderStatus.CANCELLED:
                return "order_cancelled"  # the booking was cancelled meanwhile
        await self.payments.queue_confirmation(booking, "confirm", self.before_step)
        if mark:
            await self.repo.mark_fulfilled(booking, self.clock.now_ms())
        return None

    async def _secure_seats(self, booking: Booking) -> Booking:
        """Book every paid seat on every flight; a seat the booking lost is replaced by an equivalent free one on
        the same flight, or — when that cabin has none — the payment is refunded, the booking cancelled and the
        admins alerted."""
        paid_for = [seat_key(s.flight.flight_id, seat) for s in booking.segments for seat in s.seats]
        booked = await self.payments.seats.book(str(booking.id), paid_for)
        if all(key in booked for key in paid_for):
            return booking
        segments, moves, missing = [], [], []
        for segment in booking.segments:
            lost = [seat for seat in segment.seats if seat_key(segment.flight.flight_id, seat) not in booked]
            changes = await self._replace(booking, segment, lost) if lost else {}
            if changes is None:
                missing += [f"{segment.flight.flight_number} {seat}" for seat in lost]
                continue
            moves += [f"{segment.flight.flight_number} {a} → {b}" for a, b in changes.items()]
            segments.append(segment.model_copy(update={
                "seats": [changes.get(seat, seat) for seat in segment.seats],
                "seat_changes": {**segment.seat_changes, **changes}}))
        if missing:
            return await self._refund_no_seat(booking, missing)
        await self.repo.reseat(booking, segments)
        await self.payments.seats.book(str(booking.id))
        await self.bookings.record(booking, "reseated", ", ".join(moves))
        await self.notify.tell_admins(
            f"reseated:{booking.id}", f"ℹ️ {booking.reference}: paid seat(s) had been lost; re-seated "
            + ", ".join(moves) + ".", reference=booking.reference)
        return await self.bookings.get(str(booking.id)) or booking

    async def _replace(self, booking: Booking, segment: Segment, lost: list[str]) -> dict[str, str] | None:
        """Equivalent free seats on the segment's flight for `lost` (old → new), held for the booking; None (and
        nothing kept) when the cabin has too few."""
        flight_id, cabin = segment.flight.flight_id, segment.flight.cabin
        flight = await self.flights.get(flight_id)
        layout, blocked = await self.flights.layout(flight, cabin) if flight else (None, set())
        changes: dict[str, str] = {}
        missing = list(lost)
        holder = f"booking:{booking.id}"
        if layout is not None:
            for _round in range(3):  # a candidate can be taken between the read and the hold: look again
                taken = set(await self.payments.seats.taken(flight_id)) | blocked
                for seat in suggest_seats(layout, taken, len(missing)):
                    try:
                        await self.payments.seats.hold(flight_id, seat, holder, cabin, mine=False)  # a free one
                    except SeatUnavailable:
                        continue  # taken a moment ago: the next round looks again
                    changes[missing.pop(0)] = seat
                if not missing:
                    return changes
        for new in changes.values():  # give back any replacement taken before we ran out
            await self.payments.seats.release(flight_id, new, holder)
        return None

    async def _refund_no_seat(self, booking: Booking, missing: list[str]) -> Booking:
        intent = booking.payment.payment_intent_id or ""
        await self.repo.flag(booking, BookingFlag.OVERSOLD)
        cancelled = booking
        try:
            cancelled = await self.bookings.cancel(booking, f"paid seat(s) {', '.join(missing)} no longer available")
        except InvalidTransition:
            cancelled = await self.bookings.get(str(booking.id)) or booking
        refunded = 0
        if intent:
            _rid, refunded, _error = await self.payments.refund(cancelled, intent, booking.payment.amount_paid
                                                                or booking.price.total, "no seat left")
        await self.notify.tell_admins(
            f"oversold:{booking.id}", f"🚨 {booking.reference} was paid but seat(s) {', '.join(missing)} were no "
            f"longer available and the cabin has no equivalent seat. Cancelled and refunded; please contact the "
            f"traveller.", reference=booking.reference)
        await self.notify.chat(f"oversold-chat:{booking.id}", booking.chat_id, no_seat_message(booking, refunded),
                               reference=booking.reference)
        return cancelled

    async def _refund_order_failed(self, booking: Booking, error: str) -> str:
        """The airline would not (or may not) issue the order: cancel, refund in full, tell both. Repeat-safe."""
        intent = booking.payment.payment_intent_id or ""
        try:
            cancelled = await self.bookings.cancel(booking, "the airline could not issue the booking")
        except InvalidTransition:
            cancelled = await self.bookings.get(str(booking.id)) or booking
        refunded = 0
        if intent and self.payments.gateway is not None:
            _rid, refunded, _error = await self.payments.refund(
                cancelled, intent, booking.payment.amount_paid or booking.price.total, "airline order failed")
        await self.notify.tell_admins(
            f"order-failed:{booking.id}", f"🚨 {booking.reference} was paid but Amadeus did not create the airline "
            f"order ({error}). Cancelled and refunded; the traveller is told.", reference=booking.reference)
        await self._tell_refunded(
            cancelled, ("order-failed", str(booking.id)), order_failed_message(cancelled, refunded),
            _("The airline could not issue your ticket, so we refunded your payment in full."))
        return "refunded_order_failed"

    @in_booking_language
    async def _mismatch(self, booking: Booking, session_id: str, amount: int, currency: str) -> str:
        await self.repo.flag(booking, BookingFlag.AMOUNT_MISMATCH, only_if=BookingStatus.PENDING)
        await self.bookings.record(booking, "amount_mismatch", f"paid {amount} {currency}, expected "
                                   f"{booking.price.total} {booking.price.currency}")
        await self.notify.tell_admins(
            f"mismatch:{session_id}",
            f"⚠️ Payment for {booking.reference} does not match: Stripe says {amount} {currency}, the booking "
            f"expects {booking.price.total} {booking.price.currency} (minor units). Not confirmed; please "
            f"check session {session_id}.", reference=booking.reference)
        return "amount_mismatch"

    @in_booking_language
    async def _refund_late(self, booking: Booking, intent: str, amount: int, session_id: str) -> str:
        if not intent:
            return "paid_without_intent"
        _refund_id, refunded, error = await self.payments.refund(booking, intent, amount, "late payment")
        if error:
            return "refund_failed"
        await self._tell_refunded(booking, ("late-refund", session_id), late_refund_message(booking, refunded),
                                  _("Your payment arrived after the cancellation and was refunded in full."))
        return "refunded_late_payment"

    async def _tell_refunded(self, booking: Booking, key: tuple[str, str], chat_text: str, email_note: str) -> None:
        """The traveller's chat message and cancellation e-mail about a refund, each queued once
        (keys "<kind>-chat:<id>" and "<kind>-email:<id>")."""
        kind, ident = key
        await self.notify.chat(f"{kind}-chat:{ident}", booking.chat_id, chat_text, reference=booking.reference)
        subject, text, html = emails.cancellation(booking, self.payments.reference.airports, email_note,
                                                  bot_username=self.payments.reference.bot_username)
        await self.notify.email(f"{kind}-email:{ident}", booking.email, subject, text, html,
                                reference=booking.reference)

    # ---- unpaid --------------------------------------------------------------------------------------
    @in_booking_language
    async def _unpaid(self, booking: Booking, session: dict[str, Any], *, expired: bool) -> str:
        session_id = str(session.get("id", ""))
        status, attempt_status = (PaymentStatus.EXPIRED, AttemptStatus.EXPIRED) if expired else (
            PaymentStatus.FAILED, AttemptStatus.FAILED)
        await self.attempts.mark_attempt(session_id, attempt_status)
        # Only the booking's current session matters; an old attempt's or an out-of-order event changes nothing.
        if not await self.repo.close_attempt(booking, session_id, status, self.clock.now_ms()):
            return "no_change"
        fresh = await self.bookings.get(str(booking.id)) or booking
        can_retry = self.payments.can_retry(fresh)
        offer: Intent = PayAgain(str(fresh.id)) if can_retry else SearchAgain()
        await self.notify.chat(f"{status.value}-chat:{session_id}", fresh.chat_id,
                               payment_failed_message(fresh, expired, can_retry, self.payments.attempts_left(fresh)),
                               [offer], reference=fresh.reference)
        return status.value

    # ---- sweep ---------------------------------------------------------------------------------------
    @in_booking_language
    async def settle_overdue(self, booking: Booking) -> str:
        """A PENDING booking past its payment window: ask Stripe before cancelling.

        "paid" → confirmed like a webhook would; "expired" → safe to cancel now; "unknown" → Stripe could not
        answer: keep the seats until the grace period ends (a payment may still complete), then cancel anyway
        (a payment arriving later is refunded by `paid`).
        """
        session_id = booking.payment.session_id
        gateway = self.payments.gateway
        if not session_id or gateway is None or booking.payment.status not in (PaymentStatus.OPEN,
                                                                               PaymentStatus.CREATING):
            return "expired"
        try:
            session = await gateway.settle_checkout(session_id)
        except PaymentError as exc:
            log.warning("could not settle session %s: %s", session_id, exc, extra={"booking": booking.reference})
            if self.clock.now_ms() > self.bookings.hold_until_ms(booking.hold_expires_ms):
                return "expired"
            return "unknown"
        if session.get("status") == "complete" and session.get("payment_status") in ("paid", "no_payment_required"):
            try:
                outcome = await self.paid(booking, session)
            except OrderRetryLater as exc:  # confirmed; finish_confirmations tries the airline order again
                outcome = f"confirmed, airline order pending ({exc})"
            log.info("sweep found a paid session without its webhook → %s", outcome,
                     extra={"booking": booking.reference})
            return "paid"
        return "expired"

    async def finish_confirmations(self) -> int:
        """CONFIRMED bookings whose confirmation was cut short (a crash, Stripe never retried): finish them."""
        stale = self.clock.now_ms() - 60_000
        stuck = await self.repo.unfulfilled(stale, SWEEP_BATCH)
        for booking in stuck:
            try:
                await self.fulfil(booking)
            except OrderRetryLater as exc:
                log.info("confirmation waits for the airline order: %s", exc, extra={"booking": booking.reference})
        return len(stuck)
