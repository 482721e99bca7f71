"""Flight status (issue #18): record what happens to a flight, keep its current state, and tell every traveller on
it — exactly once per event and booking — by chat and e-mail through the notification outbox.

One entry point for every source (`record`): the admin's confirmed /delay, /gate, /cancelflight, or a status feed
(services.providers.status_feed). The same event twice is stored once (its key is unique) and told once; an event
older than what the flight already shows is stored as stale and told to nobody, so a late or out-of-order report
never rolls a flight back.

The fan-out queues one chat row and one e-mail row per CONFIRMED booking with a segment on the flight (one way, a
leg of a return, a connection), keyed `flight-<event>:<booking>`, in batches of one unordered insert each. The
event is marked `fanned_ms` when all are queued; a crash between batches leaves it unmarked and the sweep runs
the fan-out again, where the keys skip what was queued before — so after any crash every traveller has exactly one
row. Delivery is the outbox's: claimed rows, retries, Telegram's rate limit through python-telegram-bot's
AIORateLimiter (a 429 is waited out and retried).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.clock import Clock, as_utc
from core.i18n import _, in_booking_language
from models.booking import Booking, Segment
from models.flight import Flight
from models.flight_status import FlightState, FlightStatusEvent, FlightStatusKind
from models.ops import Notification
from repos.flight_status import FlightStatusRepo
from repos.flights import FlightRepo
from services import emails
from services.flight_status_texts import ALERTED, alert_text, missed_text, sms_alert, subject
from services.notifications import Intent, NotificationService, Rebook, RefundChoice
from services.providers.status_feed import StatusFeed, StatusUpdate
from services.rebooking import Option, Rebooking, disrupted
from services.reference import ReferenceData

log = logging.getLogger(__name__)
_flights = FlightRepo()

FANOUT_BATCH = 100  # rows per insert: 50 bookings (a chat row and an e-mail row each)
RESUME_AFTER_MS = 60_000  # an event not fanned out after this long was interrupted: the sweep finishes it


@dataclass(frozen=True)
class Recorded:
    event: FlightStatusEvent | None  # None: this report was recorded before (the same key)
    applied: bool  # the flight's state moved (False: a replay, or older than the state)
    told: int  # bookings whose alert was queued by this call


class FlightStatusService:
    def __init__(self, clock: Clock, notifications: NotificationService, reference: ReferenceData,
                 repo: FlightStatusRepo | None = None) -> None:
        self.clock = clock
        self.notifications = notifications
        self.reference = reference
        self.repo = repo or FlightStatusRepo()
        self.batch = FANOUT_BATCH
        self.rebooking: Rebooking | None = None  # offers the choice on a disruption (attached by bot.runtime)
        self.on_report: Callable[[str, str], None] = lambda kind, outcome: None  # metrics: (kind, applied|stale|repeat)
        self.on_alerts: Callable[[str, int], None] = lambda kind, bookings: None  # metrics: bookings told per kind
        # Fault injection for tests: awaited before each batch of the fan-out (a crash between two inserts).
        self.before_batch: Callable[[int], Awaitable[None]] | None = None

    async def find_flight(self, flight_number: str, departure_date: str) -> Flight | None:
        return await _flights.numbered(flight_number.strip().upper(), departure_date)

    async def state(self, flight_id: str) -> FlightState | None:
        return await self.repo.state(flight_id)

    async def record(self, update: StatusUpdate) -> Recorded:
        """Store the report, move the flight's state, tell its travellers. Safe to repeat, in any order."""
        flight = update.flight
        event = FlightStatusEvent(
            event_key=update.key, flight_id=str(flight.id), flight_number=flight.flight_number,
            departure_date=flight.departure_date, kind=update.kind, at_ms=update.at_ms, source=update.source,
            departs_ms=update.departs_ms, arrives_ms=update.arrives_ms, gate=update.gate, terminal=update.terminal,
            diverted_to=update.diverted_to, reason=update.reason[:300], received_at=self.clock.now(),
            received_ms=self.clock.now_ms())
        if not await self.repo.add_event(event):
            self.on_report(update.kind.value, "repeat")
            return Recorded(None, False, 0)
        if not await self.repo.apply(event):
            self.on_report(update.kind.value, "stale")
            await self.repo.mark_stale(event)
            log.info("flight status %s for %s %s is older than its state: stored, not told", event.kind.value,
                     event.flight_number, event.departure_date)
            return Recorded(event, False, 0)
        self.on_report(update.kind.value, "applied")
        return Recorded(event, True, await self.fan_out(event))

    async def fan_out(self, event: FlightStatusEvent) -> int:
        """Queue every traveller's alert for this event (each once, whatever ran before); the count of bookings.
        A disruption (cancelled, or delayed past the setting) offers the choice: the next flights of the route
        with free seats in the booking's cabin, found once per cabin for the whole flight, and a refund."""
        bookings = await self.repo.confirmed_bookings_on(event.flight_id)
        if event.kind in ALERTED:
            choices = await self._choices(event, bookings)
            missed = await self._missed_connections(event, bookings)  # a missed connection's offer comes first
            notes = [note for booking in bookings
                     for note in self._alerts(event, booking, choices, missed.get(str(booking.id)))]
            for number, start in enumerate(range(0, len(notes), self.batch)):
                if self.before_batch is not None:
                    await self.before_batch(number)
                await self.notifications.enqueue_all(notes[start:start + self.batch])
            self.on_alerts(event.kind.value, len(bookings))
        await self.repo.mark_fanned(event, self.clock.now_ms())
        return len(bookings) if event.kind in ALERTED else 0

    async def _choices(self, event: FlightStatusEvent, bookings: list[Booking]) -> dict[str, list[Option]] | None:
        """Cabin → rebooking options, when this event disrupts the flight (None when it does not)."""
        if self.rebooking is None or not bookings:
            return None
        flight = await _flights.get(event.flight_id)
        if flight is None:
            return None
        scheduled = int(as_utc(flight.departs_at).timestamp() * 1000)
        state = await self.repo.state(event.flight_id)
        if not disrupted(state, scheduled, self.rebooking.delay_minutes) or state is None \
                or state.last_event_key != event.event_key:
            return None
        cabins = {s.flight.cabin for b in bookings for s in b.segments if s.flight.flight_id == event.flight_id}
        return {cabin: await self.rebooking.options(flight, cabin) for cabin in sorted(cabins)}

    async def _missed_connections(self, event: FlightStatusEvent, bookings: list[Booking]
                                  ) -> dict[str, tuple[Segment, list[Option]]]:
        """Booking id → (the connection a delay makes it miss, the later connections with seats): a delay that
        leaves less than the connecting airport's minimum connecting time is a missed connection."""
        if self.rebooking is None or event.kind != FlightStatusKind.DELAYED:
            return {}
        found: dict[str, tuple[Segment, list[Option]]] = {}
        offered: dict[tuple[str, str, int], list[Option]] = {}
        for booking in bookings:
            way = next((w for w in booking.legs() if any(s.flight.flight_id == event.flight_id for s in w)), [])
            index = next((i for i, s in enumerate(way) if s.flight.flight_id == event.flight_id), len(way))
            if index + 1 >= len(way):
                continue
            onward = way[index + 1]
            not_before = await self.rebooking.missed_after(booking, onward)
            if not_before is None:
                continue
            key = (onward.flight.flight_id, onward.flight.cabin, int(not_before.timestamp()))
            if key not in offered:
                offered[key] = await self.rebooking.options(onward.flight.flight_id, onward.flight.cabin,
                                                            not_before=not_before)
            found[str(booking.id)] = (onward, offered[key])
        return found

    @in_booking_language
    def _alerts(self, event: FlightStatusEvent, booking: Booking, choices: dict[str, list[Option]] | None = None,
                missed: tuple[Segment, list[Option]] | None = None) -> list[Notification]:
        segment = next((s for s in booking.segments if s.flight.flight_id == event.flight_id), None)
        if segment is None:
            return []
        airports = self.reference.airports
        key = f"flight-{event.id}:{booking.id}"
        text = alert_text(event, segment, airports) + "\n" + _booking_line(booking)
        intents: list[Intent] = []
        if missed is not None and self.rebooking is not None:
            onward, later = missed
            seated = len(onward.seats)
            offered = [o for o in later if o.free >= seated]
            intents += [Rebook(str(booking.id), str(o.flight.id), self.rebooking.label(o.flight)) for o in offered]
            intents.append(RefundChoice(str(booking.id)))
            text += "\n" + missed_text(onward, airports) + " " + (
                _("Choose a later connection (nothing more to pay) or a full refund:") if offered else
                _("No later connection has free seats in your cabin within 48 hours: choose a full refund, or write "
                  "to /support."))
        elif choices is not None and self.rebooking is not None:
            offered = [o for o in choices.get(segment.flight.cabin, []) if o.free >= len(segment.seats)
                       and self.rebooking.fits_trip(booking, segment, o.flight)]  # keeps the connections
            intents += [Rebook(str(booking.id), str(o.flight.id), self.rebooking.label(o.flight)) for o in offered]
            intents.append(RefundChoice(str(booking.id)))
            text += "\n" + (_("Choose another flight (same cabin, nothing more to pay) or a full refund:") if offered
                            else _("No flight of this route has free seats in your cabin within 48 hours: choose a "
                                   "full refund, or write to /support."))
        elif event.kind == FlightStatusKind.CANCELLED:
            text += "\n" + _("/support reaches our team for another flight or a refund.")
        mail_subject, body, html = self._email(event, segment, booking,
                                               choice=choices is not None or missed is not None,
                                               missed=missed[0] if missed is not None else None)
        phone = booking.passengers[0].phone if booking.passengers else None
        texts = [self.notifications.sms_note(f"{key}:sms", phone, sms_alert(event, segment, booking, airports),
                                             reference=booking.reference)] if phone and self.notifications.sms else []
        return [*texts, self.notifications.chat_note(key, booking.chat_id, text, intents, reference=booking.reference),
                self.notifications.email_note(f"{key}:email", booking.email, mail_subject, body, html,
                                              reference=booking.reference)]

    @in_booking_language
    def _email(self, event: FlightStatusEvent, segment: Segment, booking: Booking, *,
               choice: bool = False, missed: Segment | None = None) -> tuple[str, str, str]:
        airports = self.reference.airports
        said = alert_text(event, segment, airports, markup=False)
        if missed is not None:
            said += " " + missed_text(missed, airports)
        if choice and self.rebooking is not None:
            said += " " + _("In the FlyO chat, choose another flight (same cabin, nothing more to pay) or a full "
                            "refund.")
            if event.kind == FlightStatusKind.CANCELLED:
                said += " " + _("Without a choice, FlyO refunds you in full {hours} hours before the planned "
                                "departure.").format(hours=self.rebooking.refund_hours)
        elif event.kind == FlightStatusKind.CANCELLED:
            said += " " + _("Write to /support in the FlyO chat for another flight or a refund.")
        return emails.flight_change(booking, airports, subject(event, segment, booking, airports), said,
                                    bot_username=self.reference.bot_username)

    async def poll(self, feed: StatusFeed) -> int:
        """Record what a status feed has due (the sweep, every round); how many reports were new."""
        new = 0
        for report in await feed.due(self.clock.now_ms()):
            new += (await self.record(report)).event is not None
        return new

    async def finish_interrupted(self, limit: int = 20) -> int:
        """The sweep: events whose fan-out was cut short (a crash between batches) are finished; one that a newer
        event has since superseded is closed without telling anyone more (its news is out of date)."""
        finished = 0
        now = self.clock.now_ms()
        for event in await self.repo.unfanned(limit):
            if event.received_ms > now - RESUME_AFTER_MS:
                continue  # still being fanned out by whoever received it
            state = await self.repo.state(event.flight_id)
            if state is not None and state.last_event_key != event.event_key:
                await self.repo.mark_fanned(event, now)
                continue
            await self.fan_out(event)
            finished += 1
        return finished


def _booking_line(booking: Booking) -> str:
    return _("Booking {reference} · /mybookings").format(reference=booking.reference)
