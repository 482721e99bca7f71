"""Beanie documents. No `Link` and no `use_revision` (nx-27017 gaps); ids and snapshots instead."""

from models.aircraft import AircraftType, CabinLayout
from models.airline_order import AirlineOrder
from models.airport import Airport
from models.booking import (
    Booking,
    BookingEvent,
    BookingFlag,
    BookingStatus,
    Passenger,
    PaymentState,
    PaymentStatus,
    PriceSnapshot,
)
from models.cancel_request import CancelRequest
from models.chat_status import ChatStatus
from models.conversation import Conversation
from models.daily_counter import DailyCounter
from models.erase_request import EraseRequest
from models.flight import Flight, FlightSnapshot
from models.flight_action import FlightActionRequest
from models.flight_status import FlightState, FlightStatusEvent, FlightStatusKind
from models.flood_window import FloodWindow
from models.ops import AttemptStatus, AuditEntry, Notification, NotificationStatus, PaymentAttempt, WebhookEvent
from models.seat import HoldStatus, SeatHold
from models.sms_opt_out import SmsOptOut
from models.telegram_update import TelegramUpdateRow
from models.ticket_counter import TicketCounter
from models.traveller import SavedTraveller, TravellerContact

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
    AirlineOrder,
    CancelRequest,
    EraseRequest,
    SavedTraveller,
    TravellerContact,
    TicketCounter,
    FlightStatusEvent,
    FlightState,
    FlightActionRequest,
    SmsOptOut,
    TelegramUpdateRow,
    FloodWindow,
]

__all__ = [
    "ALL_DOCUMENTS",
    "AircraftType",
    "Airport",
    "AttemptStatus",
    "AuditEntry",
    "Booking",
    "BookingEvent",
    "BookingFlag",
    "BookingStatus",
    "CabinLayout",
    "CancelRequest",
    "Conversation",
    "EraseRequest",
    "Flight",
    "FlightActionRequest",
    "FlightSnapshot",
    "FlightState",
    "FlightStatusEvent",
    "FlightStatusKind",
    "FloodWindow",
    "HoldStatus",
    "Notification",
    "NotificationStatus",
    "Passenger",
    "PaymentAttempt",
    "PaymentState",
    "PaymentStatus",
    "PriceSnapshot",
    "SavedTraveller",
    "SeatHold",
    "TelegramUpdateRow",
    "TicketCounter",
    "TravellerContact",
    "WebhookEvent",
]
