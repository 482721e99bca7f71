"""Booking rules: creation from a finished draft and the only allowed status changes.

Every status change is one conditional update in repos.bookings (`status == expected` → new), so
repeats and races are harmless: the second caller matches nothing and is told the current status.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from beanie import PydanticObjectId

from core.clock import Clock, to_ms
from core.errors import BookingClosed, InvalidTransition, LimitReached, NotFound
from core.i18n import _, current_locale, ngettext
from models.booking import (
    Booking,
    BookingEvent,
    BookingStatus,
    Passenger,
    PaymentState,
    PaymentStatus,
    PriceSnapshot,
    Segment,
)
from models.flight import Flight, FlightSnapshot
from repos.bookings import BookingRepo
from services import fare_rules
from services.infants import booking_total
from services.seats import SeatService

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed safely
# PENDING → CONFIRMED (paid) or CANCELLED; CONFIRMED → CANCELLED only through a cancellation with refund.
ALLOWED = {
    BookingStatus.PENDING: {BookingStatus.CONFIRMED, BookingStatus.CANCELLED},
    BookingStatus.CONFIRMED: {BookingStatus.CANCELLED},
}


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _position in range(6))


@dataclass(frozen=True)
class NewSegment:
    flight: Flight
    cabin: str
    seats: list[str]  # one per seated passenger (not on a lap), in passenger order
    fare_per_passenger: int
    leg: int = 0
    infant_fare: int = 0  # per lap infant


@dataclass(frozen=True)
class NewBooking:
    user_id: int
    chat_id: int
    segments: list[NewSegment]  # outbound first
    passengers: list[Passenger]
    email: str
    draft_key: str  # "<chat>:<flow>": the same finished draft makes one booking, however often it is replayed
    currency: str = ""  # of every segment's fare (services.through_fares); "" : the first flight's

    @property
    def fare_per_passenger(self) -> int:
        return sum(s.fare_per_passenger for s in self.segments)


def snapshot(flight: Flight, cabin: str) -> FlightSnapshot:
    return FlightSnapshot(
        flight_id=str(flight.id), flight_number=flight.flight_number, origin=flight.origin,
        destination=flight.destination, departs_at=flight.departs_at, arrives_at=flight.arrives_at,
        aircraft=flight.aircraft, cabin=cabin, source=flight.source, offer=flight.offer,
    )


@dataclass(frozen=True)
class BookingRules:
    """The settings the booking rules need (the composition root fills them from core.config.Settings)."""

    payment_window_minutes: int = 30
    hold_grace_minutes: int = 60
    cutoff_minutes: int = 120
    max_pending_per_user: int = 2
    max_seats_per_flight: int = 9


class BookingService:
    def __init__(self, clock: Clock, seats: SeatService, rules: BookingRules, repo: BookingRepo | None = None) -> None:
        self.clock = clock
        self.seats = seats
        self.rules = rules
        self.repo = repo or BookingRepo()
        self.payment_window_ms = rules.payment_window_minutes * 60_000
        self.grace_ms = rules.hold_grace_minutes * 60_000

    def check_bookable(self, flight_number: str, departs_at: datetime) -> None:
        """Raise BookingClosed when the flight left or departs within the cut-off (fare, hold, booking, link)."""
        now = self.clock.now()
        if departs_at <= now:
            raise BookingClosed(_("{flight} has already departed.").format(flight=flight_number))
        cutoff = self.rules.cutoff_minutes
        if (departs_at - now).total_seconds() < cutoff * 60:
            if cutoff % 60 == 0 and cutoff >= 120:
                span = ngettext("{count} hour", "{count} hours", cutoff // 60).format(count=cutoff // 60)
            else:
                span = ngettext("{count} minute", "{count} minutes", cutoff).format(count=cutoff)
            raise BookingClosed(_("Booking for {flight} closes {span} before departure.").format(
                flight=flight_number, span=span))

    def hold_until_ms(self, payment_deadline_ms: int) -> int:
        """A booking's seats outlive its payment window by the grace period: Stripe may deliver late."""
        return payment_deadline_ms + self.grace_ms

    async def for_draft(self, draft_key: str) -> Booking | None:
        return await self.repo.by_draft(draft_key)

    async def check_seat_limit(self, user_id: int, flight_id: str, seats: int) -> None:
        """Seats one user may hold on one flight (their unpaid bookings' seats plus `seats` more)."""
        pending = await self.repo.pending_for_user(user_id)
        self._seat_limit(pending, flight_id, seats)

    def _seat_limit(self, pending: list[Booking], flight_id: str, seats: int) -> None:
        on_flight = sum(len(s.seats) for b in pending for s in b.segments if s.flight.flight_id == flight_id)
        if on_flight + seats > self.rules.max_seats_per_flight:
            raise LimitReached(ngettext(
                "One traveller can hold at most {count} seat on a flight until it is paid.",
                "One traveller can hold at most {count} seats on a flight until they are paid.",
                self.rules.max_seats_per_flight).format(count=self.rules.max_seats_per_flight))

    @staticmethod
    def _raise_pending_limit(pending: list[Booking]) -> None:
        refs = ", ".join(b.reference for b in pending)
        raise LimitReached(ngettext(
            "You already have {count} unpaid booking ({refs}). Please pay or cancel it first — /mybookings "
            "shows it.",
            "You already have {count} unpaid bookings ({refs}). Please pay or cancel one first — /mybookings "
            "shows them.", len(pending)).format(count=len(pending), refs=refs))

    async def _within_limits(self, booking: Booking) -> None:
        """At most N unpaid bookings and M held seats per flight per user (one user can't lock a cabin), checked
        once the booking is inserted — so check-then-insert can't race between replicas or two chats of one user:
        every booking that sees the user over a limit steps back, and the survivors never exceed it (the last
        survivor to insert saw all the others; two at the same instant may both step back: a retry wins)."""
        pending = await self.repo.pending_for_user(booking.user_id)
        others = [b for b in pending if b.id != booking.id]
        if len(others) >= self.rules.max_pending_per_user:
            self._raise_pending_limit(others)
        for segment in booking.segments:
            self._seat_limit(others, segment.flight.flight_id, len(segment.seats))

    async def create(self, new: NewBooking, holder: str) -> Booking:
        """PENDING booking with a unique reference; the draft's seat holds move to it until the deadline."""
        booking, _made = await self.create_once(new, holder)
        return booking

    async def create_once(self, new: NewBooking, holder: str) -> tuple[Booking, bool]:
        """`create`, and whether this call made the booking (False: the draft's booking existed already).

        Idempotent per draft: the booking is inserted first under the draft's unique key, so a replayed step
        (another replica saved the chat first, a double tap, a turn whose save was lost) finds it instead of
        making a second one. Then the user's limits (one read), then the seats move to it (one bulk write; a hold
        that lapsed and was not taken by anyone is still the traveller's). A booking that can't stand is taken
        back and the error raised: over a limit it is deleted (nothing refers to it yet), a lost seat cancels it
        and frees its draft key so the traveller can pick a replacement and confirm again.
        """
        if not new.segments:
            raise ValueError("a booking needs at least one flight")
        for part in new.segments:
            self.check_bookable(part.flight.flight_number, part.flight.departs_at)
        now = self.clock.now()
        # The first Checkout Session's own expiry (Stripe wants ≥ 30 min after its creation: a minute of margin,
        # services.payments): the holds `transfer` writes until it + grace are final for that first attempt,
        # which is claimed by this insert (payment CREATING, attempt 1): the link needs no claim of its own.
        deadline_ms = (self.clock.now_ms() // 1000 + 60) * 1000 + self.payment_window_ms
        segments = [Segment(flight=snapshot(p.flight, p.cabin), seats=list(p.seats),
                            fare_per_passenger=p.fare_per_passenger, infant_fare=p.infant_fare, leg=p.leg,
                            fare_rule=fare_rules.rule_for(p.cabin, p.flight.source, p.flight.refundable))
                    for p in new.segments]
        count = len(new.passengers)
        price = PriceSnapshot(currency=new.currency or new.segments[0].flight.currency,
                              fare_per_passenger=new.fare_per_passenger, passengers=count,
                              total=booking_total(segments, new.passengers),
                              infants=sum(1 for p in new.passengers if p.on_lap))
        returns = [p.flight.departs_at for p in new.segments if p.leg > 0]
        booking_id = PydanticObjectId()
        booking = await self._insert(Booking(
            id=booking_id, reference=new_reference(), user_id=new.user_id, chat_id=new.chat_id,
            segments=segments, passengers=new.passengers, email=new.email, locale=current_locale(),
            price=price, created_at=now, updated_ms=self.clock.now_ms(), hold_expires_ms=deadline_ms,
            departs_ms=to_ms(new.segments[0].flight.departs_at),
            return_departs_ms=to_ms(min(returns)) if returns else None, draft_key=new.draft_key,
            payment=PaymentState(attempt=1, status=PaymentStatus.CREATING, expires_ms=deadline_ms),
        ))
        if booking.id != booking_id:
            return booking, False  # the same draft was booked before (a replay)
        try:
            await self._within_limits(booking)
        except LimitReached:
            await self.repo.delete_unstarted(booking)  # the seats are still the chat's own holds, for a retry
            raise
        parts = [(s.flight.flight_id, s.seats) for s in segments]
        lost = await self.seats.transfer(parts, holder, str(booking_id), self.hold_until_ms(deadline_ms),
                                         cabins=[s.flight.cabin for s in segments])
        if lost is not None:
            # Free the draft key so the traveller can pick a replacement and confirm again.
            await self.repo.abandon(booking, f"seat {lost.seat} was lost", self.clock.now_ms())
            raise lost
        log.info("booking created", extra={"booking": booking.reference})
        return booking, True

    async def _insert(self, booking: Booking) -> Booking:
        """Insert with a fresh reference on a (1 in ~10^9) collision; the draft's booking if it exists already."""
        for _try in range(20):
            if await self.repo.insert(booking):
                return booking
            existing = await self.for_draft(booking.draft_key) if booking.draft_key else None
            if existing is not None:
                return existing
            booking.reference = new_reference()
        raise RuntimeError("could not allocate a unique booking reference")

    async def get(self, booking_id: str) -> Booking | None:
        """The booking, or None for an unknown or malformed id (ids also come from Stripe and buttons)."""
        return await self.repo.get(booking_id)

    async def by_reference(self, reference: str) -> Booking:
        booking = await self.repo.by_reference(reference.strip().upper())
        if booking is None:
            raise NotFound(_("There is no booking {reference}.").format(reference=reference.strip().upper()))
        return booking

    async def for_user(self, user_id: int, limit: int = 10) -> list[Booking]:
        return await self.repo.for_user(user_id, limit)

    async def page_for_user(self, user_id: int, page: int, per_page: int) -> tuple[list[Booking], int]:
        """Page `page` (from 0) of the user's bookings, newest first, and how many they have in all."""
        total = await self.repo.count_for_user(user_id)
        return await self.repo.page_for_user(user_id, max(0, page) * per_page, per_page), total

    async def own(self, booking_id: str, user_id: int) -> Booking | None:
        """The booking when it exists and belongs to `user_id`; None otherwise (ids come from buttons)."""
        booking = await self.repo.get(booking_id)
        return booking if booking is not None and booking.user_id == user_id else None

    async def own_by_reference(self, reference: str, user_id: int) -> Booking | None:
        booking = await self.repo.by_reference(reference.strip().upper())
        return booking if booking is not None and booking.user_id == user_id else None

    async def change_contact(self, booking: Booking, *, email: str | None = None, phone: str | None = None,
                             actor: str) -> Booking:
        """A new contact e-mail and/or phone (the first passenger's) for the booking's later messages; already
        validated by the caller. InvalidTransition for a cancelled booking."""
        first = booking.passengers[0].model_copy(update={k: v for k, v in (("email", email), ("phone", phone))
                                                         if v is not None})
        people = [first, *booking.passengers[1:]]
        if not await self.repo.set_contact(booking, email or booking.email, people, self.clock.now_ms()):
            raise InvalidTransition(booking.reference, BookingStatus.CANCELLED.value, "changed")
        what = ", ".join(f"{k} {v}" for k, v in (("e-mail", email), ("phone", phone)) if v)
        await self.record(booking, "contact", what, actor)
        return await self.repo.get(booking.id) or booking

    async def latest_for_user(self, user_id: int) -> Booking | None:
        return await self.repo.latest_for_user(user_id)

    async def find(self, text: str, limit: int = 10) -> list[Booking]:
        """Admin search: a reference, or part of an e-mail or a passenger's name, case-insensitive."""
        needle = " ".join(text.split())[:100]
        if len(needle) < 2:
            return []
        return await self.repo.search(needle.upper(), re.escape(needle), limit)

    async def flagged(self, limit: int = 30) -> list[Booking]:
        return await self.repo.flagged(limit)

    async def confirm(self, booking: Booking, *, session_id: str, payment_intent: str, amount_paid: int,
                      fulfilled: bool = False) -> Booking:
        """PENDING → CONFIRMED, paid through `session_id`; else InvalidTransition. `fulfilled`: the caller (the
        inbox) owns finishing the confirmation (models.booking, `fulfilled_ms`).

        One write when nothing changed the booking since `booking` was read (its `updated_ms`): the confirmed
        booking is that copy with what the write set. The history's "confirmed" entry is the booking's own
        `confirmed_ms` (BookingRepo.history)."""
        now = self.clock.now_ms()
        if await self.repo.confirm(booking, session_id=session_id, payment_intent=payment_intent,
                                   amount_paid=amount_paid, now_ms=now, unchanged=True, fulfilled=fulfilled):
            log.info("booking confirmed", extra={"booking": booking.reference})
            confirmed: Booking = booking.model_copy(update={
                "status": BookingStatus.CONFIRMED, "updated_ms": now, "confirmed_ms": now,
                "fulfilled_ms": now if fulfilled else booking.fulfilled_ms,
                "payment": booking.payment.model_copy(update={
                    "status": PaymentStatus.PAID, "payment_intent_id": payment_intent, "amount_paid": amount_paid,
                    "session_id": session_id})})
            return confirmed
        moved = await self.repo.confirm(booking, session_id=session_id, payment_intent=payment_intent,  # changed
                                        amount_paid=amount_paid, now_ms=now, fulfilled=fulfilled)  # meanwhile
        return await self._after_move(booking, moved, BookingStatus.CONFIRMED, "system", "", record=False)

    async def _after_move(self, booking: Booking, moved: bool, to: BookingStatus, actor: str, detail: str, *,
                          record: bool = True) -> Booking:
        """The booking as it is now; InvalidTransition when the conditional update matched nothing."""
        current = await self.repo.get(booking.id)
        if not moved or current is None:
            raise InvalidTransition(booking.reference, current.status.value if current else "gone", to.value)
        if record:
            await self.record(current, to.value.lower(), detail, actor)
        log.info("booking %s", to.value.lower(), extra={"booking": current.reference})
        return current

    async def cancel(self, booking: Booking, reason: str, actor: str = "system") -> Booking:
        """Cancel from the booking's current status (PENDING or CONFIRMED) and free its seats."""
        if BookingStatus.CANCELLED not in ALLOWED.get(booking.status, set()):
            raise InvalidTransition(booking.reference, booking.status.value, BookingStatus.CANCELLED.value)
        moved = await self.repo.cancel(booking, booking.status, reason, self.clock.now_ms())
        cancelled = await self._after_move(booking, moved, BookingStatus.CANCELLED, actor, reason)
        await self.release_seats(cancelled)
        return cancelled

    async def release_seats(self, booking: Booking) -> None:
        """Free a cancelled booking's seats and note it; the sweep repeats this if a crash came in between."""
        await self.seats.release_booking(str(booking.id))
        await self.repo.mark_seats_released(booking, self.clock.now_ms())

    async def speak(self, user_id: int, locale: str) -> int:
        """The user chose a language: their open and upcoming bookings' later messages use it."""
        return await self.repo.set_locale_of_user(user_id, locale)

    async def record(self, booking: Booking, kind: str, detail: str = "", actor: str = "system") -> None:
        await self.repo.add_event(BookingEvent(booking_id=str(booking.id), reference=booking.reference,
                                               at=self.clock.now(), kind=kind, detail=detail, actor=actor))

    async def history(self, booking: Booking) -> list[BookingEvent]:
        return await self.repo.history(booking)
