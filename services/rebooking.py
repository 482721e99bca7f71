"""When the airline disrupts a flight (issue #18): a cancelled flight, or one delayed past DISRUPTION_DELAY_MINUTES,
offers each traveller on it "Rebook on <flight>" for the next flights of the same route within 48 hours that have
free seats in the same cabin, and "Refund"; unanswered, a cancelled flight's bookings are refunded in full
DISRUPTION_REFUND_HOURS before its departure.

Money policy (documented in the README): the airline moved the traveller, so the traveller never pays again —
the booking keeps its reference, its ticket numbers and what was paid for a dearer flight; a cheaper flight's fare
difference goes back to the card (and the segment costs the cheaper fare from then on, so a later cancellation
refunds from the right amount); "Refund" returns everything paid, whatever the fare's conditions.

Seats, one booking at a time and never one seat in two bookings, with a crash between any two steps recoverable:
1. claim: one conditional update sets `Booking.rebooking` (from, to, no seats yet) on a CONFIRMED booking that has
   none — 25 presses, one rebooking;
2. hold free seats on the new flight in the booking's cabin, one per seated passenger (each hold is the seat's own
   atomic claim: 100 travellers for 40 seats get 40), under the booking's holder with a short expiry, so a crash
   here frees them by itself; too few → the held ones are given back, the claim cleared, the traveller told;
3. write the chosen seats on the claim, then book them (held → booked for the booking);
4. switch the segment to the new flight and clear the claim, in one conditional update;
5. free the seats on the old flight; tell the traveller (chat, e-mail, the re-drawn e-ticket).
The sweep finishes a claim older than a minute: with seats written (step 3 done) it completes 3–5, without it
gives the holds back (steps 1–2 undone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock, as_utc, from_ms
from core.errors import FlyOError, SeatUnavailable
from core.formatting import local_day_time
from core.i18n import N_, _, in_booking_language
from models.booking import Booking, BookingEvent, BookingStatus, PartRefund, RebookClaim, Segment
from models.flight import Flight, route_key
from models.flight_status import FlightState, FlightStatusKind
from repos.bookings import BookingRepo
from repos.flight_status import FlightStatusRepo
from repos.flights import FlightRepo
from services import emails
from services.bookings import snapshot
from services.flight_status_texts import moved_text
from services.notifications import NotificationService
from services.payments import CancelOutcome, PaymentService
from services.reference import ReferenceData
from services.route_graph import MinConnectTimes
from services.seats import SeatService, booking_holder
from services.tickets.service import caption as ticket_caption

log = logging.getLogger(__name__)
_flights = FlightRepo()

WINDOW = timedelta(hours=48)
MAX_OPTIONS = 3
HOLD_MS = 5 * 60_000  # step 2's holds lapse by themselves after this, should the process die
RESUME_AFTER_MS = 60_000


AIRLINE_CANCELLED = N_("your flight was cancelled by the airline; refunded in full")
NO_CHOICE_IN_TIME = N_("your flight was cancelled by the airline and no new flight was chosen in time; refunded in "
                       "full")


class RebookRefused(FlyOError):
    """Said to the traveller as is."""


@dataclass(frozen=True)
class Option:
    flight: Flight
    free: int  # seats free in the cabin when offered


def disrupted(state: FlightState | None, scheduled_ms: int, delay_minutes: int) -> bool:
    """Whether a flight's state entitles its travellers to the choice: cancelled, or delayed that long."""
    if state is None:
        return False
    if state.kind == FlightStatusKind.CANCELLED:
        return True
    return (state.kind == FlightStatusKind.DELAYED and state.departs_ms is not None
            and state.departs_ms - scheduled_ms >= delay_minutes * 60_000)


class Rebooking:
    def __init__(self, clock: Clock, seats: SeatService, reference: ReferenceData, *, delay_minutes: int,
                 refund_hours: int = 6, mct: MinConnectTimes | None = None, payments: PaymentService | None = None,
                 notifications: NotificationService | None = None, bookings: BookingRepo | None = None,
                 status: FlightStatusRepo | None = None) -> None:
        self.clock = clock
        self.seats = seats
        self.reference = reference
        self.delay_minutes = delay_minutes
        self.refund_hours = refund_hours
        self.mct = mct or MinConnectTimes()
        self.payments = payments
        self.notifications = notifications
        self.on_outcome: Callable[[str], None] = lambda outcome: None  # metrics: rebooked, refunded, auto_refunded
        self.bookings = bookings or BookingRepo()
        self.status = status or FlightStatusRepo()

    async def options(self, flight: Flight | str, cabin: str, seated: int = 1, *,
                      not_before: datetime | None = None) -> list[Option]:
        """The next flights of the same route within 48 h of `flight`'s departure, departing after now (and after
        `not_before`: a missed connection's delayed arrival plus the connecting time), not disrupted themselves,
        with at least `seated` free seats in `cabin` (up to MAX_OPTIONS, earliest first)."""
        found = flight if isinstance(flight, Flight) else await _flights.get(flight)
        if found is None:
            return []
        departs = as_utc(found.departs_at)
        now = max(self.clock.now(), not_before or self.clock.now())
        candidates: list[Flight] = []
        for offset in range(3):  # one equality query per day (README, Database)
            day = (departs + timedelta(days=offset)).date().isoformat()
            candidates += await _flights.on_route(route_key(found.origin, found.destination, day))
        candidates = sorted((f for f in candidates if f.id != found.id and cabin in f.capacity
                             and departs < as_utc(f.departs_at) <= departs + WINDOW and as_utc(f.departs_at) > now),
                            key=lambda f: as_utc(f.departs_at))
        taken = await self.seats.taken_counts(str(f.id) for f in candidates)
        states = await self.status.states([str(f.id) for f in candidates])
        options = []
        for candidate in candidates:
            free = candidate.capacity[cabin] - taken.get(str(candidate.id), {}).get(cabin, 0)
            state = states.get(str(candidate.id))
            scheduled = int(as_utc(candidate.departs_at).timestamp() * 1000)
            if free >= seated and not disrupted(state, scheduled, self.delay_minutes):
                options.append(Option(candidate, free))
            if len(options) == MAX_OPTIONS:
                break
        return options

    def fits_trip(self, booking: Booking, segment: Segment, candidate: Flight) -> bool:
        """Whether `candidate` can replace `segment` without breaking the rest of its way: it leaves at least the
        minimum connecting time after the previous flight lands, and lands at least that long before the next one
        leaves (a one-flight way always fits)."""
        way = [s for s in booking.segments if s.leg == segment.leg]
        index = next((i for i, s in enumerate(way) if s.flight.flight_id == segment.flight.flight_id), 0)
        if index > 0:
            before = way[index - 1].flight
            if as_utc(candidate.departs_at) < as_utc(before.arrives_at) + timedelta(minutes=self.mct.at(
                    candidate.origin)):
                return False
        if index + 1 < len(way):
            after = way[index + 1].flight
            if as_utc(candidate.arrives_at) + timedelta(minutes=self.mct.at(candidate.destination)) > as_utc(
                    after.departs_at):
                return False
        return True

    def label(self, option: Flight) -> str:
        when = local_day_time(as_utc(option.departs_at), self.reference.airports.tz(option.origin))
        return _("🔁 {flight} {when}").format(flight=option.flight_number, when=when)

    async def missed_after(self, booking: Booking, segment: Segment) -> datetime | None:
        """When `segment` is a connection its previous flight's delay makes it miss: the earliest a replacement may
        leave (the delayed arrival plus the airport's minimum connecting time); None when it is not missed."""
        way = [s for s in booking.segments if s.leg == segment.leg]
        index = next((i for i, s in enumerate(way) if s.flight.flight_id == segment.flight.flight_id), 0)
        if index == 0:
            return None
        previous = await self.status.state(way[index - 1].flight.flight_id)
        if previous is None or previous.kind != FlightStatusKind.DELAYED or previous.arrives_ms is None:
            return None
        ready = from_ms(previous.arrives_ms) + timedelta(minutes=self.mct.at(segment.flight.origin))
        return ready if ready > as_utc(segment.flight.departs_at) else None

    async def _entitled(self, booking: Booking, from_flight: str) -> tuple[Segment, datetime | None]:
        """The segment that may be changed, and how late its replacement may leave at the earliest (a missed
        connection) — RebookRefused unless its flight is disrupted or its connection missed."""
        segment = next((s for s in booking.segments if s.flight.flight_id == from_flight), None)
        if booking.status != BookingStatus.CONFIRMED or segment is None:
            raise RebookRefused(_("Booking {reference} is no longer on that flight.").format(
                reference=booking.reference))
        state = await self.status.state(from_flight)
        scheduled = int(as_utc(segment.flight.departs_at).timestamp() * 1000)
        if disrupted(state, scheduled, self.delay_minutes):
            return segment, None
        missed = await self.missed_after(booking, segment)
        if missed is None:
            raise RebookRefused(_("{flight} flies as planned, so it can't be changed here.").format(
                flight=segment.flight.flight_number))
        return segment, missed

    @in_booking_language
    async def rebook(self, booking: Booking, to_flight_id: str) -> Booking:
        """Move the booking from its disrupted flight to `to_flight_id` (steps 1–5). RebookRefused says why not."""
        if booking.rebooking is not None:
            raise RebookRefused(_("Booking {reference} is being moved already.").format(reference=booking.reference))
        target = await _flights.get(to_flight_id)
        from_segment = next((s for s in booking.segments
                             if target is not None and s.flight.origin == target.origin
                             and s.flight.destination == target.destination), None)
        if target is None or from_segment is None:
            raise RebookRefused(_("That flight can't be offered for booking {reference}.").format(
                reference=booking.reference))
        segment, not_before = await self._entitled(booking, from_segment.flight.flight_id)
        cabin = segment.flight.cabin
        seated = len(segment.seats)
        offered = await self.options(segment.flight.flight_id, cabin, seated, not_before=not_before)
        if not self.fits_trip(booking, segment, target) and not_before is None:
            raise RebookRefused(_("{flight} would break your connection; choose another.").format(
                flight=target.flight_number))
        if not any(o.flight.id == target.id for o in offered):
            raise RebookRefused(_("{flight} has no {count} free seat(s) left in your cabin.").format(
                flight=target.flight_number, count=seated))
        claim = RebookClaim(from_flight=segment.flight.flight_id, to_flight=str(target.id),
                            started_ms=self.clock.now_ms())
        if not await self.bookings.claim_rebooking(booking, claim):
            raise RebookRefused(_("Booking {reference} is being moved already.").format(reference=booking.reference))
        try:
            seats = await self._hold(booking, target, cabin, seated)
        except RebookRefused:
            await self.bookings.clear_rebooking(booking, claim)
            raise
        claim = claim.model_copy(update={"seats": seats})
        await self.bookings.set_rebooking_seats(booking, claim)
        return await self._finish(booking, claim)

    async def _hold(self, booking: Booking, target: Flight, cabin: str, seated: int) -> list[str]:
        """Step 2: `seated` free seats in `cabin` of `target`, each held for the booking (a seat taken meanwhile:
        the next free one). RebookRefused, with every seat given back, when there are not enough."""
        holder = booking_holder(str(booking.id))
        aircraft = self.reference.aircraft.get(target.aircraft)
        layout = aircraft.cabin(cabin) if aircraft else None
        codes = layout.seat_codes() if layout else []
        until = self.clock.now_ms() + HOLD_MS
        held: list[str] = []
        taken = await self.seats.taken_seats(str(target.id))
        for seat in (c for c in codes if c not in taken):
            try:
                await self.seats.hold(str(target.id), seat, holder, cabin, mine=False, booking_id=str(booking.id),
                                      until_ms=until)
            except SeatUnavailable:
                continue
            held.append(seat)
            if len(held) == seated:
                return held
        for seat in held:
            await self.seats.release(str(target.id), seat, holder)
        raise RebookRefused(_("{flight} filled up just now: no {count} free seat(s) left in your cabin.").format(
            flight=target.flight_number, count=seated))

    async def _finish(self, booking: Booking, claim: RebookClaim) -> Booking:
        """Steps 3–5 (also the sweep's, after a crash): book the seats, switch the segment, free the old ones."""
        target = await _flights.get(claim.to_flight)
        if target is None:
            raise RebookRefused(_("That flight no longer exists."))
        wanted = {f"{claim.to_flight}:{seat}" for seat in claim.seats}
        booked = await self.seats.book(str(booking.id), wanted)
        if not wanted <= booked:  # a hold lapsed while the process was down and the seat went to someone else
            kept = [seat for seat in claim.seats if f"{claim.to_flight}:{seat}" in booked]
            extra = await self._hold(booking, target, self._cabin(booking, claim), len(claim.seats) - len(kept))
            claim = claim.model_copy(update={"seats": kept + extra})
            await self.bookings.set_rebooking_seats(booking, claim)
            await self.seats.book(str(booking.id), {f"{claim.to_flight}:{seat}" for seat in claim.seats})
        segments = [s if s.flight.flight_id != claim.from_flight else s.model_copy(update={
            "flight": snapshot(target, s.flight.cabin), "seats": list(claim.seats), "seat_changes": {},
            # a cheaper flight's fare is what the segment cost from now on (the difference is refunded below)
            "fare_per_passenger": min(s.fare_per_passenger, target.fares.get(s.flight.cabin, s.fare_per_passenger))
            if target.currency == booking.price.currency else s.fare_per_passenger})
            for s in booking.segments]
        old = next(s for s in booking.segments if s.flight.flight_id == claim.from_flight)
        new = next(s for s in segments if s.flight.flight_id == claim.to_flight)
        difference = (old.fare_per_passenger - new.fare_per_passenger) * len(claim.seats)
        owed = PartRefund(amount=difference, key=f"rebook-{claim.to_flight}",
                          why=_("fare difference after the airline moved your flight")) if difference > 0 else None
        moved = await self.bookings.switch_flight(booking, claim, segments, self.clock.now_ms(), owed)
        fresh = await self.bookings.get(booking.id)
        if fresh is None:
            raise RebookRefused(_("That booking no longer exists."))
        if moved or fresh.rebooking is None:
            await self.seats.release_on_flight(str(booking.id), claim.from_flight)
        if moved:
            await self._history(fresh, "rebooked",
                                f"{old.flight.flight_number} → {target.flight_number}, seats {', '.join(claim.seats)}")
            self.on_outcome("rebooked")
        if fresh.refund_due is not None:  # a cheaper flight: the difference back to the card (once; the sweep retries)
            fresh = await self._settle(fresh)
        return fresh

    async def _settle(self, booking: Booking) -> Booking:
        if self.payments is None:
            return booking
        refunded = await self.payments.settle_refund_due(booking)
        if refunded:
            await self._history(booking, "fare_difference_refund", f"{refunded} {booking.price.currency}")
        return await self.bookings.get(booking.id) or booking

    async def _history(self, booking: Booking, kind: str, detail: str, actor: str = "system:disruption") -> None:
        await self.bookings.add_event(BookingEvent(booking_id=str(booking.id), reference=booking.reference,
                                                   at=self.clock.now(), kind=kind, detail=detail, actor=actor))

    async def choices_for(self, booking: Booking) -> list[Option] | None:
        """The options still open to a booking on a disrupted flight (after a race was lost: the next ones);
        None when it is on none (moved already, cancelled)."""
        for segment in booking.segments:
            try:
                _segment, not_before = await self._entitled(booking, segment.flight.flight_id)
            except RebookRefused:
                continue
            found = await self.options(segment.flight.flight_id, segment.flight.cabin, len(segment.seats),
                                       not_before=not_before)
            return [o for o in found if not_before is not None or self.fits_trip(booking, segment, o.flight)]
        return None

    @staticmethod
    def _cabin(booking: Booking, claim: RebookClaim) -> str:
        return next(s.flight.cabin for s in booking.segments if s.flight.flight_id == claim.from_flight)

    @in_booking_language
    async def refund(self, booking: Booking, actor: str) -> CancelOutcome:
        """"Refund": the whole booking cancelled and everything paid refunded, whatever the fare's conditions —
        only for a booking on a disrupted flight (a forged button for any other gets RebookRefused)."""
        if self.payments is None:
            raise RebookRefused(_("Refunds are not possible on this FlyO; /support reaches our team."))
        if booking.rebooking is not None:
            raise RebookRefused(_("Booking {reference} is being moved already.").format(reference=booking.reference))
        disrupted_segment = None
        for segment in booking.segments:
            try:
                disrupted_segment, _not_before = await self._entitled(booking, segment.flight.flight_id)
                break
            except RebookRefused:
                continue
        if disrupted_segment is None:
            raise RebookRefused(_("Booking {reference} flies as planned; /cancel {reference} shows what cancelling "
                                  "it would refund.").format(reference=booking.reference))
        outcome = await self.payments.cancel(booking, AIRLINE_CANCELLED, actor, refund=None, tell_chat=False)
        await self._history(outcome.booking, "disruption_refund", f"{outcome.refunded} {booking.price.currency}",
                            actor)
        self.on_outcome("refunded")
        return outcome

    async def refund_unanswered(self, limit: int = 50) -> int:
        """The sweep: bookings still on a cancelled flight DISRUPTION_REFUND_HOURS before it was to leave are
        cancelled with everything refunded, and told (chat and e-mail)."""
        if self.payments is None:
            return 0
        refunded = 0
        horizon = self.clock.now() + timedelta(hours=self.refund_hours)
        for state in await self.status.cancelled(limit):
            flight = await _flights.get(state.flight_id)
            if flight is None or as_utc(flight.departs_at) > horizon:
                continue
            for booking in await self.status.confirmed_bookings_on(state.flight_id):
                if booking.rebooking is not None:
                    continue  # a move in progress: the sweep finishes that first
                try:
                    outcome = await self.payments.cancel(booking, NO_CHOICE_IN_TIME, "system:disruption", refund=None)
                except FlyOError as exc:
                    log.warning("automatic refund of %s failed: %s", booking.reference, exc)
                    continue
                await self._history(outcome.booking, "disruption_auto_refund",
                                    f"{outcome.refunded} {booking.price.currency}")
                self.on_outcome("auto_refunded")
                refunded += 1
        return refunded

    @in_booking_language
    async def tell_moved(self, booking: Booking, new: Segment) -> None:
        """The e-mail and the re-drawn e-ticket of a moved booking (the chat hears it as the button's answer)."""
        if self.notifications is None:
            return
        said = moved_text(booking, new, self.reference, markup=False)
        subject = _("Booking {reference}: moved to {flight}").format(reference=booking.reference,
                                                                     flight=new.flight.flight_number)
        mail_subject, body, html = emails.flight_change(booking, self.reference.airports, subject, said,
                                                        bot_username=self.reference.bot_username)
        key = f"rebooked:{booking.id}:{new.flight.flight_id}"
        await self.notifications.enqueue_all([
            self.notifications.tickets_note(f"{key}:tickets", booking.chat_id, str(booking.id),
                                            ticket_caption(booking), reference=booking.reference),
            self.notifications.email_note(f"{key}:email", booking.email, mail_subject, body, html,
                                          reference=booking.reference, tickets_of=str(booking.id))])

    async def finish_interrupted(self, limit: int = 20) -> int:
        """The sweep: rebookings cut short by a crash — completed when their seats were chosen, else undone — and
        fare differences owed but not yet refunded (a crash, or Stripe down)."""
        done = 0
        for owing in await self.bookings.owing_refunds(limit):
            if owing.rebooking is None and (await self._settle(owing)).refund_due is None:
                done += 1
        for booking in await self.bookings.rebooking_since(self.clock.now_ms() - RESUME_AFTER_MS, limit):
            claim = booking.rebooking
            if claim is None:
                continue
            if claim.seats:
                await self._finish(booking, claim)
            else:
                await self.seats.release_unbooked_on_flight(str(booking.id), claim.to_flight)
                await self.bookings.clear_rebooking(booking, claim)
            done += 1
        return done
