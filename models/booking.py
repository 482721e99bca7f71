"""Bookings and their history. Status moves only by the conditional updates of repos.bookings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING, IndexModel

from models.flight import FlightSnapshot


class BookingStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


class PaymentStatus(StrEnum):
    """`booking.payment.status`: where the booking's current Checkout attempt stands (stored as these strings)."""

    NONE = "none"  # no attempt yet
    CREATING = "creating"  # attempt number claimed, the Checkout Session is being created
    OPEN = "open"  # a payable link
    EXPIRED = "expired"
    FAILED = "failed"
    PAID = "paid"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"


class BookingFlag(StrEnum):
    """`booking.flag`: something an admin should look at."""

    AMOUNT_MISMATCH = "amount_mismatch"
    REFUND_FAILED = "refund_failed"
    OVERSOLD = "oversold"
    DISPUTED = "disputed"
    PARTIALLY_REFUNDED = "partially_refunded"


class Passenger(BaseModel):
    full_name: str
    birth_date: date
    email: str | None = None
    phone: str | None = None
    document_number: str | None = None

    def is_infant(self, on: date) -> bool:
        years = on.year - self.birth_date.year - ((on.month, on.day) < (self.birth_date.month, self.birth_date.day))
        return years < 2


class PriceSnapshot(BaseModel):
    """Fare per passenger and total in integer minor units of `currency`."""

    currency: str
    fare_per_passenger: int
    passengers: int
    total: int


class PaymentState(BaseModel):
    """The current Stripe Checkout attempt; every attempt is also a PaymentAttempt document."""

    attempt: int = 0
    session_id: str | None = None
    url: str | None = None
    expires_ms: int = 0
    status: PaymentStatus = PaymentStatus.NONE
    payment_intent_id: str | None = None
    refund_id: str | None = None
    amount_paid: int = 0


class Booking(Document):
    reference: str
    user_id: int
    chat_id: int
    status: BookingStatus = BookingStatus.PENDING
    flight: FlightSnapshot
    seats: list[str]
    passengers: list[Passenger]
    email: str
    price: PriceSnapshot
    created_at: datetime
    updated_ms: int
    hold_expires_ms: int  # seats held until then; extended to the Checkout Session's expiry
    departs_ms: int = 0  # flight.departs_at as epoch ms: what the reminder sweep queries
    payment: PaymentState = PaymentState()
    flag: BookingFlag | None = None  # needs an admin
    cancel_reason: str | None = None
    payment_reminder_ms: int | None = None  # claimed/sent time of the payment reminder
    departure_reminder_ms: int | None = None
    # One booking per finished draft ("<chat>:<flow>"): a replayed Confirm returns it instead of making another.
    # Cleared when creation fails, so the same draft may try again.
    draft_key: str | None = None
    seat_changes: dict[str, str] = {}  # old seat -> new seat, when a paid seat had been lost and was replaced
    fulfilled_ms: int | None = None  # seats booked and confirmation queued: a half-finished confirmation has None
    seats_released_ms: int | None = None  # a cancelled booking's seats were freed (a crash between is swept)

    class Settings:
        name = "bookings"
        indexes = [
            IndexModel([("reference", ASCENDING)], unique=True),
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("status", ASCENDING), ("hold_expires_ms", ASCENDING)]),
            IndexModel([("payment.session_id", ASCENDING)]),
            IndexModel([("payment.payment_intent_id", ASCENDING)]),
            IndexModel([("draft_key", ASCENDING)], unique=True,
                       partialFilterExpression={"draft_key": {"$type": "string"}}),
            IndexModel([("status", ASCENDING)]),
            IndexModel([("user_id", ASCENDING)]),
        ]


class BookingEvent(Document):
    """Append-only history of a booking (one document per event; nx-27017 mangles `$push` of documents)."""

    booking_id: str
    reference: str
    at: datetime
    kind: str
    detail: str = ""
    actor: str = "system"

    class Settings:
        name = "booking_events"
        indexes = [IndexModel([("booking_id", ASCENDING), ("at", ASCENDING)])]
