"""The end of personal data (issue #21): the retention sweep, and a traveller's /deleteme.

A booking stays, for accounting: reference, status, amounts and currency, flights, dates and seats, payment and
refund ids, ticket numbers, the Telegram user and chat. What goes ("redacted", once, by a conditional update on
`redacted_ms`): the passengers' names (a placeholder), birth dates, document numbers, e-mails and phones, the
booking's contact e-mail, the contact changes in its history and the messages already sent about it.

- Retention: the sweep redacts every booking whose last flight departed more than PERSONAL_DATA_RETENTION_DAYS
  ago, in bounded batches.
- /deleteme (after a confirmation card that acts once): the traveller's saved travellers and contact, their
  conversations (the booking in progress) and the seats those held are deleted; unpaid bookings are cancelled
  through the booking service (seats released, the payment link expired); cancelled and flown bookings are redacted
  at once; a paid trip still ahead is kept as it is — the traveller must be able to fly it — and redacted by the
  sweep as soon as it is over (`erase_requested_ms`). Every step may run again, so a crash midway is finished by
  sending /deleteme again. The audit log records the erasure by counts and references, never the data itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.clock import Clock, as_utc, to_ms
from core.errors import InvalidTransition, PaymentError
from core.i18n import _
from models.booking import BookingStatus, Segment
from models.erase_request import EraseRequest
from repos.one_time import OneTimeRequests
from repos.personal_data import PersonalDataRepo
from services.audit import audit
from services.bookings import BookingService
from services.cancellations import CardAnswered
from services.conversations import ConversationStore
from services.payments import PaymentService
from services.seats import SeatService, chat_holder
from services.travellers import TravellerService

log = logging.getLogger(__name__)

REDACTED_NAME = "•••"  # a removed name, the same in every language
ERASED_REASON = "cancelled at your request (/deleteme)"  # stored in English, like every reason
CONFIRM_MINUTES = 10
BATCH = 200
DAY_MS = 86_400_000


def redacted_passengers(passengers: Any) -> list[dict[str, Any]]:
    """The passenger list as a redacted booking keeps it: how many, and who sat on a lap (the fares say so)."""
    people = passengers if isinstance(passengers, list) else []
    return [{"full_name": REDACTED_NAME, "birth_date": None, "email": None, "phone": None, "document_number": None,
             "on_lap": bool(p.get("on_lap")) if isinstance(p, dict) else False} for p in people]


def _segments(raw: dict[str, Any]) -> list[Segment]:
    return [Segment.model_validate(s) for s in raw.get("segments") or []]


def last_departure_ms(raw: dict[str, Any]) -> int:
    """When the booking's last flight departs (0 for a booking without flights)."""
    return max((to_ms(as_utc(s.flight.departs_at)) for s in _segments(raw)), default=0)


def trip_over(raw: dict[str, Any], now: datetime) -> bool:
    """The last flight has landed (its scheduled arrival)."""
    return all(as_utc(s.flight.arrives_at) <= now for s in _segments(raw))


@dataclass
class ErasureReport:
    """What /deleteme did (or, before "Yes", would do): counts and references, never the data."""

    travellers: int = 0
    conversations: int = 0
    seats_released: int = 0
    cancelled: list[str] = field(default_factory=list)  # unpaid bookings cancelled
    redacted: list[str] = field(default_factory=list)  # past or cancelled bookings redacted now
    kept: list[str] = field(default_factory=list)  # paid trips still ahead: redacted when they are over

    def summary(self) -> str:
        """For the audit log: no names, dates or addresses."""
        return (f"travellers {self.travellers}, conversations {self.conversations}, seats {self.seats_released}, "
                f"cancelled {','.join(self.cancelled) or '-'}, redacted {','.join(self.redacted) or '-'}, "
                f"kept until the trip is over {','.join(self.kept) or '-'}")


class Erasure:
    def __init__(self, clock: Clock, bookings: BookingService, seats: SeatService, travellers: TravellerService,
                 conversations: ConversationStore, payments: PaymentService | None, *, retention_days: int,
                 repo: PersonalDataRepo | None = None) -> None:
        self.clock = clock
        self.bookings = bookings
        self.seats = seats
        self.travellers = travellers
        self.conversations = conversations
        self.payments = payments
        self.retention_ms = retention_days * DAY_MS
        self.repo = repo or PersonalDataRepo()
        self.requests = OneTimeRequests(EraseRequest)

    # ---- retention -----------------------------------------------------------------------------------
    async def sweep(self) -> int:
        """Redact what is due (bounded batches); how many bookings this call redacted."""
        now_ms = self.clock.now_ms()
        cutoff = now_ms - self.retention_ms
        done = 0
        for raw in await self.repo.retention_due(cutoff, BATCH):
            if last_departure_ms(raw) < cutoff:
                done += await self._redact(raw, now_ms)
        now = self.clock.now()
        for raw in await self.repo.erase_requested(BATCH):
            if trip_over(raw, now):
                done += await self._redact(raw, now_ms)
        if done:
            log.info("personal details removed from %d booking(s)", done)
        return done

    async def _redact(self, raw: dict[str, Any], now_ms: int) -> int:
        """1 when this call redacted the booking (another replica's sweep may have been first)."""
        if not await self.repo.redact(raw["_id"], redacted_passengers(raw.get("passengers")), now_ms):
            return 0
        await self.repo.redact_records(str(raw["_id"]), str(raw.get("reference", "")))
        return 1

    # ---- /deleteme -----------------------------------------------------------------------------------
    async def preview(self, user_id: int) -> ErasureReport:
        """What "Yes" would do now (the card says it)."""
        report = ErasureReport(travellers=len(await self.travellers.list(user_id)))
        now = self.clock.now()
        for raw in await self.repo.of_user(user_id):
            reference = str(raw.get("reference", ""))
            if raw.get("redacted_ms") is not None:
                continue
            if raw.get("status") == BookingStatus.PENDING:
                report.cancelled.append(reference)
            elif raw.get("status") == BookingStatus.CANCELLED or trip_over(raw, now):
                report.redacted.append(reference)
            else:
                report.kept.append(reference)
        return report

    async def ask(self, user_id: int, chat_id: int) -> EraseRequest:
        return await self.requests.add(EraseRequest(user_id=user_id, chat_id=chat_id, created_at=self.clock.now(),
                                                    expires_ms=self.clock.now_ms() + CONFIRM_MINUTES * 60_000))

    async def _answerable(self, request_id: str, user_id: int) -> EraseRequest:
        request = await self.requests.get(request_id)
        if request is None or request.user_id != user_id:
            raise CardAnswered(_("This button is no longer active."))
        if request.used_ms is not None:
            raise CardAnswered(_("This card was already answered."))
        if request.expires_ms < self.clock.now_ms():
            raise CardAnswered(_("This confirmation expired; send /deleteme again."))
        return request

    async def confirm(self, request_id: str, user_id: int) -> ErasureReport:
        """"Yes": erase, once however often it is tapped (CardAnswered for the other taps)."""
        request = await self._answerable(request_id, user_id)
        if not await self.requests.claim(request, self.clock.now_ms()):
            raise CardAnswered(_("This card was already answered."))
        return await self.erase(user_id, request.chat_id)

    async def keep(self, request_id: str, user_id: int) -> None:
        """"No": the card can no longer erase anything."""
        request = await self._answerable(request_id, user_id)
        await self.requests.close(request, self.clock.now_ms())

    async def erase(self, user_id: int, chat_id: int) -> ErasureReport:
        """Everything of the traveller's that may go, now; each step harmless to repeat (see the module)."""
        report = ErasureReport()
        actor = f"user:{user_id}"
        for booking in await self.bookings.repo.pending_for_user(user_id):
            try:
                await self.bookings.cancel(booking, ERASED_REASON, actor)  # frees its seats
            except InvalidTransition:
                continue  # paid (or expired) a moment ago: decided below with the others
            report.cancelled.append(booking.reference)
            await self._expire_link(booking.payment.session_id, booking.reference)
        chats = await self.conversations.repo.delete_for_user(user_id)
        report.conversations = len(chats)
        for chat in {chat_id, *chats}:
            self.conversations.forget(chat)
            report.seats_released += await self.seats.release_holder(chat_holder(chat))
        report.travellers = await self.travellers.forget_all(user_id)
        now, now_ms = self.clock.now(), self.clock.now_ms()
        for raw in await self.repo.of_user(user_id):
            reference = str(raw.get("reference", ""))
            if raw.get("redacted_ms") is not None:
                continue
            if raw.get("status") == BookingStatus.CANCELLED or trip_over(raw, now):
                await self._redact(raw, now_ms)
                if reference not in report.cancelled:
                    report.redacted.append(reference)
            else:
                await self.repo.erase_after_trip(raw["_id"], now_ms)
                report.kept.append(reference)
        await audit(self.clock, user_id, "deleteme", actor, "erased", report.summary())
        return report

    async def _expire_link(self, session_id: str | None, reference: str) -> None:
        """An unpaid booking's Checkout link must not take money for a booking that is gone."""
        gateway = self.payments.gateway if self.payments is not None else None
        if session_id and gateway is not None:
            try:
                await gateway.expire_checkout(session_id)
            except PaymentError as exc:  # a late payment of a cancelled booking is refunded (services.payment_events)
                log.warning("could not expire the payment link: %s", exc, extra={"booking": reference})
