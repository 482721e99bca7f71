"""The services one FlyO process uses, built once by the composition root (bot.runtime)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.clock import Clock
    from core.config import Settings
    from core.database import Database
    from models.aircraft import AircraftType
    from services.airports import AirportDirectory
    from services.bookings import BookingService
    from services.cancellations import Cancellations
    from services.connections import ConnectionSearch
    from services.conversations import ConversationStore
    from services.erasure import Erasure
    from services.flight_actions import FlightOps
    from services.flight_status import FlightStatusService
    from services.flights import FlightSearch
    from services.flood import Gate
    from services.notifications import NotificationService
    from services.payment_events import PaymentEvents
    from services.payments import PaymentService
    from services.rebooking import Rebooking
    from services.reference import ReferenceData
    from services.seats import SeatService
    from services.sweeps import Sweeper
    from services.telegram_inbox import TelegramInbox
    from services.tickets.service import TicketService
    from services.travellers import TravellerService


@dataclass
class Services:
    settings: Settings
    clock: Clock
    database: Database
    conversations: ConversationStore
    flights: FlightSearch
    seats: SeatService
    bookings: BookingService
    reference: ReferenceData
    notifications: NotificationService
    connections: ConnectionSearch | None = None  # one- and two-stop options from the local inventory
    payments: PaymentService | None = None  # None: no Stripe key and no demo mode
    payment_events: PaymentEvents | None = None
    cancellations: Cancellations | None = None  # /cancel REF: the card, then "Yes, cancel"
    sweeper: Sweeper | None = None
    travellers: TravellerService | None = None  # saved travellers and contact (/profile, the passenger questions)
    flight_status: FlightStatusService | None = None  # what happens to flights after they are sold (issue #18)
    flight_ops: FlightOps | None = None  # the admins' /delay, /gate, /cancelflight cards
    rebooking: Rebooking | None = None  # a disrupted flight's choice: another flight, or a full refund
    tickets: TicketService | None = None  # e-ticket PDF and calendar file (/ticket, the confirmation's attachments)
    telegram_inbox: TelegramInbox | None = None  # webhook mode: updates stored before they are answered
    erasure: Erasure | None = None  # /deleteme and the personal data retention (services.erasure)
    flood_gate: Gate | None = None  # set by bot.runtime: this process's window, or the replicas' shared one
    webhook_secret: str = ""  # STRIPE_WEBHOOK_SECRET, or a per-process secret in demo mode
    started_monotonic: float = 0.0
    on_webhook_event: Callable[[str, str], None] | None = None  # metrics hook: (event type, outcome)
    extras: dict[str, object] = field(default_factory=dict)

    # ---- reference data, read through (the handlers' view of `reference`) ------------------------------
    @property
    def airports(self) -> AirportDirectory:
        return self.reference.airports

    @property
    def aircraft(self) -> dict[str, AircraftType]:
        return self.reference.aircraft

    @property
    def last_day(self) -> date | None:
        return self.reference.last_day

    def count_webhook(self, event_type: str, outcome: str) -> None:
        """Report a Stripe webhook event's outcome to the metrics hook, if one was given."""
        if self.on_webhook_event is not None:
            self.on_webhook_event(event_type, outcome)
