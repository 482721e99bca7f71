"""Payment links, cancellations and refunds. Stripe is the source of truth for money.

A booking's current Checkout attempt lives in `booking.payment`; every attempt is also a
PaymentAttempt document. An attempt is claimed by a conditional update before the gateway is
called, and the gateway call carries an idempotency key per (booking, attempt), so a double tap,
two replicas or a retry after a timeout all end with one session.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.clock import Clock
from core.errors import FlyOError, InvalidTransition, PaymentError, PaymentsNotConfigured, SeatUnavailable
from core.formatting import cabin_name, local_date
from core.i18n import _, in_booking_language
from models.airline_order import AirlineOrderStatus
from models.booking import Booking, BookingFlag, BookingStatus, PaymentStatus
from models.ops import AttemptStatus, PaymentAttempt
from repos.payments import PaymentRepo
from services import emails
from services.airline_orders import AirlineOrderService
from services.bookings import BookingService
from services.money import money
from services.notifications import NotificationService, PayNow
from services.payment_texts import (
    NO_REFUND_DUE,
    cancelled_message,
    confirmed_message,
    deadline_text,
    payment_link_message,
)
from services.reference import ReferenceData
from services.seats import SeatService
from services.stripe_gateway import CheckoutLine, CheckoutRequest, PaymentGateway
from services.tickets.service import caption as ticket_caption
from services.trust_texts import reseated_note

log = logging.getLogger(__name__)


class AttemptsExhausted(FlyOError):
    pass


@dataclass(frozen=True)
class PaymentLink:
    booking: Booking
    url: str
    expires_ms: int
    attempt: int
    demo: bool
    reused: bool


@dataclass(frozen=True)
class CancelOutcome:
    booking: Booking
    refund_id: str | None
    refunded: int
    refund_error: str | None = None


@in_booking_language
def checkout_lines(booking: Booking) -> list[CheckoutLine]:
    """One Stripe line item per passenger per flight, in the booking's language: "FO123 LHR-JFK Tue 15 Dec 2026,
    Economy (ABC234) — Ada"; a lap infant's reads "— Ella (infant on lap)" at the infant fare. Their sum is the
    booking's total."""
    lines = []
    for segment in booking.segments:
        f = segment.flight
        day = local_date(f.departs_at.date())
        what = f"{f.flight_number} {f.origin}-{f.destination} {day}, {cabin_name(f.cabin)} ({booking.reference})"
        on_lap = _("infant on lap")
        lines += [CheckoutLine(f"{what} — {p.full_name} ({on_lap})", segment.infant_fare) if p.on_lap
                  else CheckoutLine(f"{what} — {p.full_name}", segment.fare_per_passenger)
                  for p in booking.passengers]
    return [line for line in lines if line.amount > 0]  # a free lap (INFANT_FARE_PERCENT 0) is no item to pay


STRIPE_MIN_EXPIRY_MS = 30 * 60_000  # a Checkout Session's expires_at: 30 min to 24 h after its creation


def checkout_locale(locale: str) -> str:
    """Stripe Checkout's `locale` for a booking's language: "en", "es", "de" as they are; anything else "auto"."""
    return locale if locale in ("en", "es", "de") else "auto"


class PaymentService:
    def __init__(self, clock: Clock, bookings: BookingService, seats: SeatService,
                 notifications: NotificationService, gateway: PaymentGateway | None, reference: ReferenceData, *,
                 public_url: str, max_attempts: int = 3, window_minutes: int = 30,
                 attempts: PaymentRepo | None = None) -> None:
        """`public_url`: where Stripe sends the traveller back (/paid, /unpaid); `max_attempts` Checkout
        attempts per booking; `window_minutes` each attempt's lifetime (the composition root passes the
        settings MAX_PAYMENT_ATTEMPTS and PAYMENT_WINDOW_MINUTES)."""
        self.clock = clock
        self.bookings = bookings
        self.seats = seats
        self.notifications = notifications
        self.gateway = gateway
        self.reference = reference
        self.public_url = public_url.rstrip("/")
        self.max_attempts = max_attempts
        self.window_ms = window_minutes * 60_000
        self.attempts = attempts or PaymentRepo()
        self.repo = bookings.repo
        self.orders: AirlineOrderService | None = None  # live fares' airline orders (Amadeus configured)

    @property
    def demo(self) -> bool:
        return self.gateway is not None and self.gateway.demo

    def attempts_left(self, booking: Booking) -> int:
        return max(0, self.max_attempts - booking.payment.attempt)

    def can_retry(self, booking: Booking) -> bool:
        return booking.status == BookingStatus.PENDING and self.attempts_left(booking) > 0

    # ---- links ---------------------------------------------------------------------------------------
    async def ensure_link(self, booking: Booking, *, fresh: bool = False) -> PaymentLink:
        """The open payment link, or a new attempt when the last one expired or failed. `fresh`: the caller has
        just read `booking`, so the first look needs no read of its own (the attempt claim still checks it)."""
        if self.gateway is None:
            raise PaymentsNotConfigured("Payments are not configured on this FlyO (no STRIPE_SECRET_KEY).")
        for _try in range(4):
            current = booking if fresh and _try == 0 else await self.bookings.get(str(booking.id))
            if current is None:
                raise FlyOError("This booking no longer exists.")
            booking = current
            if booking.status != BookingStatus.PENDING:
                raise InvalidTransition(booking.reference, booking.status.value, "paid")
            first = booking.first_flight
            self.bookings.check_bookable(first.flight_number, first.departs_at)
            p = booking.payment
            now = self.clock.now_ms()
            if p.status == PaymentStatus.OPEN and p.url and p.expires_ms > now + 60_000:
                return PaymentLink(booking, p.url, p.expires_ms, p.attempt, self.demo, reused=True)
            if p.status == PaymentStatus.CREATING and p.expires_ms >= now + STRIPE_MIN_EXPIRY_MS + 10_000:
                # Finish a half-made attempt (the first one is claimed by the booking's insert) while its expiry
                # is still one Stripe accepts (≥ 30 min after the session's creation; 10 s for the round trip).
                return await self._create(booking, p.attempt, p.expires_ms)
            # A claimed attempt that never got its session (the booking's first, made later; Stripe was down) keeps
            # its number: the traveller has not seen a link for it.
            attempt = p.attempt if p.status == PaymentStatus.CREATING and p.session_id is None else p.attempt + 1
            if attempt > self.max_attempts:
                raise AttemptsExhausted(f"All {self.max_attempts} payment attempts for {booking.reference} are used.")
            if p.session_id and p.status in (PaymentStatus.OPEN, PaymentStatus.CREATING):
                await self.gateway.expire_checkout(p.session_id)  # the old link must not be payable any more
            # Stripe wants expires_at ≥ 30 min after creation: a minute of margin for the round trip.
            expires_ms = (now // 1000 + 60) * 1000 + self.window_ms
            # The first link right after the booking: its deadline is this session's expiry, and the booking's
            # holds already run until it + grace (BookingService.create's transfer) — no second write. Later
            # attempts ("pay again") extend them (and re-take a lost seat if it is still free).
            held = attempt == 1 and now + self.window_ms + 30_000 <= booking.hold_expires_ms <= expires_ms
            if held:
                expires_ms = booking.hold_expires_ms
            if not await self.repo.claim_attempt(booking, attempt=attempt, expires_ms=expires_ms, now_ms=now):
                continue  # another tap or replica moved on; look again
            for segment in booking.segments if not held else []:
                if not await self.seats.rehold_for_booking(segment.flight.flight_id, segment.seats, str(booking.id),
                                                           self.bookings.hold_until_ms(expires_ms),
                                                           segment.flight.cabin):
                    await self.repo.fail_attempt(booking, attempt)
                    raise SeatUnavailable(", ".join(segment.seats), segment.flight.flight_id)
            return await self._create(booking, attempt, expires_ms)
        raise PaymentError("The payment link is being created; please try again in a moment.")

    async def _create(self, booking: Booking, attempt: int, expires_ms: int) -> PaymentLink:
        assert self.gateway is not None
        public = self.public_url
        request = CheckoutRequest(
            booking_id=str(booking.id), reference=booking.reference, attempt=attempt, email=booking.email,
            currency=booking.price.currency, lines=checkout_lines(booking),
            expires_at=expires_ms // 1000,
            success_url=f"{public}/paid?ref={booking.reference}", cancel_url=f"{public}/unpaid?ref={booking.reference}",
            locale=checkout_locale(booking.locale),
        )
        session = await self.gateway.create_checkout(request)
        await self.repo.open_attempt(booking, attempt, session_id=session.id, url=session.url, expires_ms=expires_ms)
        await self.attempts.record_attempt(PaymentAttempt(  # once, though a concurrent tap may record it too
            booking_id=str(booking.id), reference=booking.reference, attempt=attempt, session_id=session.id,
            url=session.url, amount=session.amount_total, currency=session.currency, expires_ms=expires_ms,
            created_at=self.clock.now()))
        log.info("payment link attempt %s created", attempt, extra={"booking": booking.reference})
        # The booking as the claim and open_attempt left it (conditional updates on this attempt), without a read.
        opened = booking.model_copy(update={"hold_expires_ms": expires_ms, "payment": booking.payment.model_copy(
            update={"attempt": attempt, "status": PaymentStatus.OPEN, "expires_ms": expires_ms,
                    "session_id": session.id, "url": session.url})})
        return PaymentLink(opened, session.url, expires_ms, attempt, self.demo, reused=False)

    def link_text(self, link: PaymentLink) -> str:
        deadline = deadline_text(link.expires_ms, link.booking, self.reference.airports, self.clock.now_ms())
        return payment_link_message(link.booking, deadline, link.attempt, self.max_attempts, link.demo)

    @in_booking_language
    async def resend(self, booking: Booking, actor: str) -> PaymentLink:
        """Admin /resend: a valid link (the open one or a new attempt) to the traveller by chat and e-mail."""
        link = await self.ensure_link(booking)
        stamp = self.clock.now_ms()
        await self.notifications.chat(f"resend-chat:{booking.id}:{stamp}", booking.chat_id,
                                      _("🔁 Here is your payment link again.") + "\n" + self.link_text(link),
                                      [PayNow(link.url)], reference=booking.reference)
        deadline = deadline_text(link.expires_ms, link.booking, self.reference.airports, stamp)
        subject, text, html = emails.payment_link(link.booking, link.url, deadline, self.reference.airports, link.demo,
                                                  bot_username=self.reference.bot_username)
        await self.notifications.email(f"resend-email:{booking.id}:{stamp}", booking.email, subject, text, html,
                                       reference=booking.reference)
        await self.bookings.record(link.booking, "resend", f"attempt {link.attempt}", actor)
        return link

    @in_booking_language
    async def queue_confirmation(self, booking: Booking, key: str,
                                 step: Callable[[str], Awaitable[None]] | None = None) -> None:
        """The confirmation (chat, e-ticket files, e-mail with them attached) for a CONFIRMED booking, queued once
        per `key`.

        `step` is awaited before the outbox write ("outbox": the webhook's fault-injection point).
        """
        airports = self.reference.airports
        order = await self.orders.order_of(booking) if self.orders is not None else None
        # One order for the whole trip; its PNR(s) on one line (several only when Amadeus split the records).
        pnr, order_id = (", ".join(order.references) or None, order.order_id) if (
            order and order.status == AirlineOrderStatus.CREATED) else (None, None)
        text = confirmed_message(booking, airports, pnr=pnr, order_id=order_id) + reseated_note(booking)
        subject, body, html = emails.confirmation(booking, airports, pnr=pnr, order_id=order_id,
                                                  bot_username=self.reference.bot_username,
                                                  leads=(reseated_note(booking, html_text=False).strip(),))
        if step is not None:
            await step("outbox")
        await self.notifications.enqueue_all([  # one write for all three; each once per key
            self.notifications.chat_note(f"{key}-chat:{booking.id}", booking.chat_id, text,
                                         reference=booking.reference),
            # The e-ticket (PDF + calendar) after the words, as its own row: a drawing that fails is retried
            # there, and never holds up the confirmation text.
            self.notifications.tickets_note(f"{key}-tickets:{booking.id}", booking.chat_id, str(booking.id),
                                            ticket_caption(booking), reference=booking.reference),
            self.notifications.email_note(f"{key}-email:{booking.id}", booking.email, subject, body, html,
                                          reference=booking.reference, tickets_of=str(booking.id))])

    @in_booking_language
    async def resend_confirmation(self, booking: Booking, actor: str) -> None:
        """Admin /resend of a CONFIRMED booking: the confirmation again, by chat and e-mail."""
        if booking.status != BookingStatus.CONFIRMED:
            raise InvalidTransition(booking.reference, booking.status.value, "re-confirmed")
        await self.queue_confirmation(booking, f"resend-confirm:{self.clock.now_ms()}")
        await self.bookings.record(booking, "resend", "confirmation", actor)

    # ---- cancellation --------------------------------------------------------------------------------
    async def cancel(self, booking: Booking, reason: str, actor: str, *, refund: int | None = None,
                     message: str = "", tell_chat: bool = True) -> CancelOutcome:
        """Cancel (conditional), free the seats, expire an open link, refund a payment, tell the traveller.

        `refund`: the amount to refund (minor units), as the cancellation card quoted it (services.fare_rules);
        None: everything paid; 0: no refund and no call to Stripe. `message`: an admin's words for the traveller,
        added to what they are told. `tell_chat` False when the traveller cancelled in their own chat and the
        answer there already says it (one message, not two); the e-mail is sent either way."""
        was = booking.status
        cancelled = await self.bookings.cancel(booking, reason, actor)
        refund_id, refunded, error = None, 0, None
        p = booking.payment
        paid = p.amount_paid or booking.price.total
        amount = paid if refund is None else max(0, min(refund, paid))
        if was == BookingStatus.CONFIRMED and p.payment_intent_id and self.gateway is not None and amount > 0:
            refund_id, refunded, error = await self.refund(cancelled, p.payment_intent_id, amount, "cancel")
        elif p.session_id and p.status in (PaymentStatus.OPEN, PaymentStatus.CREATING) and self.gateway is not None:
            try:
                await self.gateway.expire_checkout(p.session_id)
            except PaymentError as exc:
                log.warning("could not expire the open session: %s", exc, extra={"booking": booking.reference})
        if self.orders is not None:  # after the refund: a failure here alerts the admins and blocks nothing
            await self.orders.cancel(cancelled)
        no_refund_due = was == BookingStatus.CONFIRMED and p.payment_intent_id is not None and amount == 0
        await self._tell_cancelled(cancelled, refunded, message=message, chat=tell_chat, no_refund_due=no_refund_due)
        return CancelOutcome(cancelled, refund_id, refunded, error)

    async def refund(self, booking: Booking, payment_intent: str, amount: int, why: str) -> tuple[str | None, int,
                                                                                                   str | None]:
        """Refund `amount` (all or, under the fare's conditions, part of the payment) with an idempotency key per
        booking and payment, so a repeat never refunds twice."""
        assert self.gateway is not None
        key = f"flyo-refund-{booking.id}-{payment_intent}"
        try:
            refund_id = await self.gateway.refund(payment_intent, amount, key, currency=booking.price.currency)
        except PaymentError as exc:
            await self.repo.flag(booking, BookingFlag.REFUND_FAILED)
            await self.notifications.tell_admins(
                f"refund-failed:{booking.id}:{payment_intent}",
                f"⚠️ Refund for {booking.reference} failed: {exc}. Please refund it in the Stripe dashboard.",
                reference=booking.reference)
            return None, 0, str(exc)
        await self.repo.mark_refunded(booking, refund_id)
        await self.bookings.record(booking, "refund", f"{amount} {booking.price.currency} ({why}): {refund_id}")
        return refund_id, amount, None

    async def settle_refund_due(self, booking: Booking) -> int:
        """Pay back what the booking owes while keeping its flights (`Booking.refund_due`: written with the change
        that made it due): Stripe refund with the debt's own idempotency key, then the debt cleared and
        `amount_paid` lowered in one update — repeated after a crash, the money still moves once. The amount
        settled; 0 when Stripe failed (the booking flagged, the admins told; the sweep tries again)."""
        due, p = booking.refund_due, booking.payment
        if due is None or self.gateway is None or not p.payment_intent_id:
            return 0
        try:
            refund_id = await self.gateway.refund(p.payment_intent_id, due.amount, f"flyo-part-{booking.id}-{due.key}",
                                                  currency=booking.price.currency)
        except PaymentError as exc:
            await self.repo.flag(booking, BookingFlag.REFUND_FAILED)
            await self.notifications.tell_admins(
                f"refund-failed:{booking.id}:{due.key}",
                f"⚠️ Partial refund for {booking.reference} ({due.why}) failed: {exc}. FlyO retries it with each "
                f"sweep; or refund {money(due.amount, booking.price.currency)} in the Stripe dashboard.",
                reference=booking.reference)
            return 0
        if not await self.repo.settle_part_refund(booking, due):
            return 0  # settled by another process a moment ago (the same idempotency key: one refund)
        await self.bookings.record(booking, "refund", f"{due.amount} {booking.price.currency} ({due.why}): {refund_id}")
        return due.amount

    @in_booking_language
    async def _tell_cancelled(self, booking: Booking, refunded: int, *, message: str = "", chat: bool = True,
                              no_refund_due: bool = False) -> None:
        """`no_refund_due`: paid, but the fare's conditions refund nothing now — said, so silence isn't read as
        a refund forgotten."""
        if chat:
            await self.notifications.chat(f"cancel-chat:{booking.id}", booking.chat_id,
                                          cancelled_message(booking, refunded, message, no_refund_due=no_refund_due),
                                          reference=booking.reference)
        note = _("We refunded {amount} to your card.").format(amount=money(refunded, booking.price.currency)) \
            if refunded else _(NO_REFUND_DUE) if no_refund_due else ""
        if message:
            note = (note + "\n\n" if note else "") + _("Message from FlyO: {message}").format(message=message)
        subject, text, html = emails.cancellation(booking, self.reference.airports, note,
                                                  bot_username=self.reference.bot_username)
        await self.notifications.email(f"cancel-email:{booking.id}", booking.email, subject, text, html,
                                       reference=booking.reference)

    async def summary(self, booking: Booking) -> list[dict[str, Any]]:
        attempts = await self.attempts.attempts(str(booking.id))
        paid = booking.payment.session_id if booking.payment.status == PaymentStatus.PAID else None
        # The paid current attempt's row is not updated (PaymentEvents.paid): the booking's payment says it.
        return [{"attempt": a.attempt, "session": a.session_id, "amount": a.amount, "currency": a.currency,
                 "status": AttemptStatus.PAID if a.session_id == paid else a.status} for a in attempts]
