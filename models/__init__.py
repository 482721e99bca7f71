"""Beanie documents. No `Link` and no `use_revision` (nx-27017 gaps); ids and snapshots instead."""

from models.aircraft import AircraftType, CabinLayout
from models.airport import Airport
from models.booking import Booking, BookingEvent, BookingStatus, Passenger, PaymentState, PriceSnapshot
from models.chat_status import ChatStatus
from models.conversation import Conversation
from models.daily_counter import DailyCounter
from models.flight import Flight, FlightSnapshot
from models.ops import AuditEntry, Notification, PaymentAttempt, WebhookEvent
from models.seat import SeatHold

ALL_DOCUMENTS: list[type] = [
    Airport,
    AircraftType,
    Flight,
    SeatHold,
    Booking,
    BookingEvent,
    Conversation,
    PaymentAttempt,
    WebhookEvent,
    Notification,
    AuditEntry,
    ChatStatus,
    DailyCounter,
]

__all__ = [
    "ALL_DOCUMENTS",
    "AircraftType",
    "Airport",
    "AuditEntry",
    "Booking",
    "BookingEvent",
    "BookingStatus",
    "CabinLayout",
    "Conversation",
    "Flight",
    "FlightSnapshot",
    "Notification",
    "Passenger",
    "PaymentAttempt",
    "PaymentState",
    "PriceSnapshot",
    "SeatHold",
    "WebhookEvent",
]
