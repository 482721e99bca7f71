"""Periodic sweeps over the database (not one timer per booking), so a restart loses nothing.

Every unit of work is claimed by a conditional update before its effect, so two replicas running the
same sweep at the same moment cancel each booking once and send each reminder once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.clock import Clock
from core.errors import InvalidTransition
from core.formatting import local_day_time
from core.i18n import _, in_booking_language, ngettext
from models.booking import Booking, BookingStatus, Segment
from models.flight_status import FlightState, FlightStatusKind
from services import emails
from services.bookings import BookingService
from services.flight_status_texts import departs_now, state_line
from services.hold_alerts import HoldAlerts
from services.notifications import NotificationService, PayNow, SearchAgain
from services.payment_events import PaymentEvents
from services.payments import PaymentService
from services.reference import ReferenceData
from services.seats import SeatService

log = logging.getLogger(__name__)

PAYMENT_REMINDER_MS = 10 * 60_000  # ~10 minutes before the payment deadline
DEPARTURE_REMINDER_MS = 24 * 3600_000
BATCH = 200


@dataclass
class SweepReport:
    holds_released: int = 0
    bookings_expired: int = 0
    payment_reminders: int = 0
    departure_reminders: int = 0
    counted_searches: int = 0  # search counts written for /stats (services.stats)
    notifications_sent: int = 0
    seats_released: int = 0
    confirmations_finished: int = 0
    hold_alerts: int = 0  # seat holds about to lapse or lapsed, told (services.hold_alerts)
    flight_alerts_finished: int = 0  # flight status fan-outs cut short by a crash, finished (services.flight_status)
    status_reports: int = 0  # new reports from the flight status feed (FLIGHT_STATUS_FEED)
    rebookings_finished: int = 0  # moves off a disrupted flight cut short by a crash, finished or undone
    disruption_refunds: int = 0  # bookings on a cancelled flight refunded for want of a choice
    updates_recovered: int = 0  # webhook updates whose process died before handling them (services.telegram_inbox)
    flood_windows_forgotten: int = 0  # users quiet for a whole flood window (services.flood, shared)
    personal_data_redacted: int = 0  # bookings past PERSONAL_DATA_RETENTION_DAYS, or erased (services.erasure)


async def _nothing_to_flush() -> int:
    return 0


async def _no_state(flight_id: str) -> FlightState | None:
    return None


class Sweeper:
    def __init__(self, clock: Clock, seats: SeatService, bookings: BookingService,
                 notifications: NotificationService, payments: PaymentService | None,
                 reference: ReferenceData | None = None, payment_events: PaymentEvents | None = None) -> None:
        self.clock = clock
        self.seats = seats
        self.bookings = bookings
        self.notifications = notifications
        self.payments = payments
        self.payment_events = payment_events
        self.repo = bookings.repo
        self.reference = reference or ReferenceData()
        self.hold_alerts = HoldAlerts(clock, seats, notifications, self.reference)
        # Counts kept in memory until written (services.stats.flush_counters, set by bot.runtime: the sweep must
        # not import the stats, which import the metrics, which know the services).
        self.flush_counters: Callable[[], Awaitable[int]] = _nothing_to_flush
        # Flight status fan-outs cut short (set by bot.runtime, like the counters).
        self.finish_flight_alerts: Callable[[], Awaitable[int]] = _nothing_to_flush
        self.finish_rebookings: Callable[[], Awaitable[int]] = _nothing_to_flush  # services.rebooking
        self.refund_unanswered: Callable[[], Awaitable[int]] = _nothing_to_flush
        self.recover_updates: Callable[[], Awaitable[int]] = _nothing_to_flush  # webhook mode (services.telegram_inbox)
        self.poll_status_feed: Callable[[], Awaitable[int]] = _nothing_to_flush  # FLIGHT_STATUS_FEED
        self.forget_flood_windows: Callable[[], Awaitable[int]] = _nothing_to_flush  # services.flood, replicas
        self.redact_personal_data: Callable[[], Awaitable[int]] = _nothing_to_flush  # services.erasure
        self.flight_state: Callable[[str], Awaitable[FlightState | None]] = _no_state  # reminders tell the latest

    async def run(self) -> SweepReport:
        report = SweepReport()
        report.updates_recovered = await self.recover_updates()  # first: a traveller waits for these
        report.hold_alerts = await self.hold_alerts.run()  # before lapsed holds are deleted
        report.holds_released = await self.seats.release_expired()
        report.bookings_expired = await self.expire_unpaid()
        report.seats_released = await self.release_cancelled_seats()
        if self.payment_events is not None:
            report.confirmations_finished = await self.payment_events.finish_confirmations()
        report.payment_reminders = await self.payment_reminders()
        report.status_reports = await self.poll_status_feed()  # before the reminders: they tell the latest status
        report.departure_reminders = await self.departure_reminders()
        report.flight_alerts_finished = await self.finish_flight_alerts()
        report.rebookings_finished = await self.finish_rebookings()
        report.disruption_refunds = await self.refund_unanswered()
        report.notifications_sent = await self.notifications.deliver_due()
        report.counted_searches = await self.flush_counters()
        report.flood_windows_forgotten = await self.forget_flood_windows()
        report.personal_data_redacted = await self.redact_personal_data()
        return report

    async def expire_unpaid(self) -> int:
        """PENDING bookings past their payment window: ask Stripe first (a payment may have completed without
        its webhook), then cancel, free the seats and tell the traveller."""
        now = self.clock.now_ms()
        done = 0
        for booking in await self.repo.overdue(now, BATCH):
            done += await self._expire(booking)
        return done

    @in_booking_language
    async def _expire(self, booking: Booking) -> int:
        """1 when this sweep cancelled the overdue booking (and told the traveller, in their language)."""
        if self.payment_events is not None:
            verdict = await self.payment_events.settle_overdue(booking)
            if verdict != "expired":
                return 0  # paid (now confirmed) or Stripe can't say yet: keep the seats
        try:  # the conditional PENDING → CANCELLED is the claim: a second replica gets InvalidTransition
            cancelled = await self.bookings.cancel(booking, "payment window passed")
        except InvalidTransition:
            return 0
        await self.notifications.chat(
            f"auto-cancel:{booking.id}", booking.chat_id,
            _("⌛ Booking <b>{reference}</b> was cancelled because it wasn't paid in time, and its seats "
              "were released. You can search again any time.").format(reference=booking.reference),
            [SearchAgain()], reference=cancelled.reference)
        log.info("auto-cancelled unpaid booking", extra={"booking": booking.reference})
        return 1

    async def release_cancelled_seats(self) -> int:
        """Seats of cancelled bookings whose release was cut short by a crash (cancel and release are two writes)."""
        left = await self.repo.cancelled_with_seats(BATCH)
        for booking in left:
            await self.bookings.release_seats(booking)
        return len(left)

    async def payment_reminders(self) -> int:
        now = self.clock.now_ms()
        sent = 0
        for booking in await self.repo.payment_reminders_due(now, PAYMENT_REMINDER_MS, BATCH):
            if await self.repo.claim_reminder(booking, "payment_reminder_ms", now):
                await self._remind_to_pay(booking, now)
                sent += 1
        return sent

    @in_booking_language
    async def _remind_to_pay(self, booking: Booking, now: int) -> None:
        minutes = max(1, round((booking.hold_expires_ms - now) / 60_000))
        offer = [PayNow(booking.payment.url)] if booking.payment.url else []
        await self.notifications.chat(
            f"pay-reminder:{booking.id}:{booking.payment.attempt}", booking.chat_id,
            ngettext("⏰ Booking <b>{reference}</b>: about {minutes} minutes left to pay. After that the seats "
                     "are released.", "⏰ Booking <b>{reference}</b>: about {minutes} minutes left to pay. After "
                     "that the seats are released.", minutes).format(reference=booking.reference, minutes=minutes),
            offer, reference=booking.reference)

    async def departure_reminders(self) -> int:
        """24 h before each way of a trip (the outbound, and the return's first flight), once per way."""
        now = self.clock.now_ms()
        sent = 0
        for way, claim, key, leg in (("departs_ms", "departure_reminder_ms", "departure-reminder", 0),
                                     ("return_departs_ms", "return_reminder_ms", "return-reminder", 1)):
            for booking in await self.repo.departure_reminders_due(now, DEPARTURE_REMINDER_MS, BATCH, way=way):
                if not await self.repo.claim_reminder(booking, claim, now):
                    continue
                await self._remind(booking, booking.legs()[min(leg, len(booking.legs()) - 1)][0], key)
                sent += 1
        return sent

    @in_booking_language
    async def _remind(self, booking: Booking, segment: Segment, key: str) -> None:
        flight = segment.flight
        state = await self.flight_state(flight.flight_id)
        if state is not None and state.kind in (FlightStatusKind.CANCELLED, FlightStatusKind.DIVERTED):
            return  # the traveller was told of that; a reminder of a departure that will not happen misleads
        origin = self.reference.airports.get(flight.origin)
        local = local_day_time(departs_now(state, flight), origin.tz if origin else "UTC")  # the latest status
        city = origin.city if origin else flight.origin
        text = _("🛫 Reminder: {flight} {origin} → {destination} departs {local} {city} time. Seats {seats} · "
                 "booking {reference}.").format(
            flight=flight.flight_number, origin=flight.origin, destination=flight.destination, local=local,
            city=city, seats=", ".join(segment.seats), reference=booking.reference)
        status = state_line(state, flight, self.reference.airports)
        if status:
            text += "\n" + status
        await self.notifications.chat(f"{key}:{booking.id}", booking.chat_id, text, reference=booking.reference)
        phone = booking.passengers[0].phone if booking.passengers else None
        if phone and self.notifications.sms is not None:
            await self.notifications.enqueue_all([self.notifications.sms_note(
                f"{key}-sms:{booking.id}", phone, _("FlyO reminder: {flight} {origin}-{destination} departs {local} "
                                                    "{city} time. Booking {reference}").format(
                    flight=flight.flight_number, origin=flight.origin, destination=flight.destination, local=local,
                    city=city, reference=booking.reference), reference=booking.reference)])
        lead = _("Your flight departs {local} {city} time.").format(local=local, city=city)
        subject, body, html = emails.confirmation(booking, self.reference.airports,
                                                  bot_username=self.reference.bot_username, leads=(lead, status or ""))
        await self.notifications.email(f"{key}-email:{booking.id}", booking.email,
                                       _("Reminder: {subject}").format(subject=subject), body, html,
                                       reference=booking.reference)


__all__ = ["BookingStatus", "SweepReport", "Sweeper"]
