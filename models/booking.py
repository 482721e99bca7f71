"""Bookings and their history. Status moves only by the conditional updates of repos.bookings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymongo import ASCENDING, DESCENDING, IndexModel

from models.flight import FlightSnapshot
from models.sealed import SEALED_ENCODERS, SealedDate, SealedText


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
    """One traveller of a booking. Birth date and document are encrypted in the database (models.sealed); all of
    it but `on_lap` is removed once the trip is over and the retention has passed (`Booking.redacted_ms`)."""

    model_config = ConfigDict(validate_assignment=True)  # a value assigned later is sealed on the next save too

    full_name: str
    birth_date: SealedDate | None  # None only once redacted
    email: str | None = None
    phone: str | None = None
    document_number: SealedText | None = None
    on_lap: bool = False  # an infant (under 2) on an adult's lap: no seat, the infant fare (services.infants)


class Leg:
    """`Segment.leg`: which way a flight goes. Connecting flights of one way share it."""

    OUTBOUND = 0
    RETURN = 1


class Segment(BaseModel):
    """One flight of the itinerary with the seated passengers' seats (in passenger order) and its fares.

    A lap infant has no seat: `seats` holds one seat per passenger *not* on a lap (`Booking.seat_of`)."""

    flight: FlightSnapshot  # with the cabin of this flight (cabins may differ: economy out, business back)
    seats: list[str]
    fare_per_passenger: int  # minor units of the booking's currency
    infant_fare: int = 0  # per lap infant on this flight (services.through_fares.infant_fare)
    fare_rule: str | None = None  # the fare's conditions when sold (services.fare_rules); None: sold before them
    leg: int = Leg.OUTBOUND
    seat_changes: dict[str, str] = {}  # old seat -> new seat, when a paid seat had been lost and was replaced


class PriceSnapshot(BaseModel):
    """Fare per seated passenger (all segments) and total in integer minor units of `currency`."""

    currency: str
    fare_per_passenger: int
    passengers: int  # everyone, lap infants included
    total: int  # seated passengers at fare_per_passenger, lap infants at their segments' infant fares
    infants: int = 0  # of `passengers`, on a lap


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


class TicketIssue(BaseModel):
    """The e-tickets of a CONFIRMED booking: one 13-digit number per passenger (in passenger order, lap infants
    included: airlines ticket an infant too), each covering every flight as its coupons (services.tickets).

    Issued once, on the first delivery after confirmation (services.tickets.service), by a conditional write
    that only an unticketed booking matches, so two deliveries at once cannot give a passenger two numbers."""

    numbers: list[str]
    issued_ms: int  # the date of issue printed on the ticket: the confirmation time when known


class RebookClaim(BaseModel):
    """A move off a disrupted flight in progress (services.rebooking): set by one conditional update, so one move
    at a time; `seats` once chosen and held on the new flight — from then on the move is finished, never undone."""

    from_flight: str
    to_flight: str
    started_ms: int
    seats: list[str] = []


class PartRefund(BaseModel):
    """Money a CONFIRMED booking owes back while keeping its flights (a cheaper flight after a rebooking): written
    with the change that made it due, cleared in the same update that lowers `payment.amount_paid`, so a crash in
    between is finished by the sweep and the money moves once (Stripe's idempotency key is `key`)."""

    amount: int  # minor units of the booking's currency
    key: str
    why: str = ""


class Booking(Document):
    reference: str
    user_id: int
    chat_id: int
    status: BookingStatus = BookingStatus.PENDING
    segments: list[Segment]  # written whole, never by position: nx-27017 ignores positional array updates
    passengers: list[Passenger]
    email: str
    locale: str = "en"  # the traveller's language when booking: every later message about it uses it
    price: PriceSnapshot
    created_at: datetime
    updated_ms: int
    hold_expires_ms: int  # seats held until then; extended to the Checkout Session's expiry
    departs_ms: int = 0  # the first departure as epoch ms: what the reminder sweep queries
    return_departs_ms: int | None = None  # the return's first departure (a return trip), for its own reminder
    payment: PaymentState = PaymentState()
    flag: BookingFlag | None = None  # needs an admin
    cancel_reason: str | None = None
    payment_reminder_ms: int | None = None  # claimed/sent time of the payment reminder
    departure_reminder_ms: int | None = None
    return_reminder_ms: int | None = None
    # One booking per finished draft ("<chat>:<flow>"): a replayed Confirm returns it instead of making another.
    # Cleared when creation fails, so the same draft may try again.
    draft_key: str | None = None
    # Seats booked and confirmation queued: a half-finished confirmation has None. A booking confirmed by the
    # Stripe inbox has it from the confirm on: the inbox event, retried until done, owns finishing it.
    fulfilled_ms: int | None = None
    # When it was paid (PENDING → CONFIRMED): the history's "confirmed" entry is read from here and
    # `payment.session_id` (BookingRepo.history), so confirming writes one document, not two.
    confirmed_ms: int | None = None
    seats_released_ms: int | None = None  # a cancelled booking's seats were freed (a crash between is swept)
    tickets: TicketIssue | None = None  # e-ticket numbers, from the first e-ticket delivery on
    rebooking: RebookClaim | None = None  # moving off a disrupted flight (services.rebooking); None when not
    refund_due: PartRefund | None = None  # a partial refund owed and not yet settled (services.payments)
    # Personal details removed (names, birth dates, documents, e-mail, phone: services.erasure), by the retention
    # sweep or the traveller's /deleteme; set by the one conditional update that removes them.
    redacted_ms: int | None = None
    # /deleteme while this trip was still ahead: its details go as soon as the trip is over, not after the retention.
    erase_requested_ms: int | None = None

    # The shape before itineraries, read (never written) so old documents load: Beanie fetches only the fields
    # a model declares, so they must be declared to reach the migration below.
    legacy_flight: dict[str, Any] | None = Field(default=None, alias="flight", exclude=True)
    legacy_seats: list[str] | None = Field(default=None, alias="seats", exclude=True)
    legacy_seat_changes: dict[str, str] | None = Field(default=None, alias="seat_changes", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _one_flight_to_segments(cls, data: Any) -> Any:
        """A booking stored before itineraries (one `flight`, `seats`, `seat_changes`) loads as one segment."""
        if isinstance(data, dict) and "segments" not in data and "flight" in data:
            price = data.get("price") or {}
            fare = price.get("fare_per_passenger", 0) if isinstance(price, dict) else price.fare_per_passenger
            data = {**data, "segments": [{
                "flight": data["flight"], "seats": data.get("seats", []), "fare_per_passenger": fare,
                "seat_changes": data.get("seat_changes") or {}}]}
        return data

    @property
    def first_flight(self) -> FlightSnapshot:
        return self.segments[0].flight

    def seat_of(self, segment: Segment, passenger: int) -> str | None:
        """The seat of the `passenger`-th passenger on `segment`; None for a lap infant (or a seat not known)."""
        if self.passengers[passenger].on_lap:
            return None
        seated = sum(1 for p in self.passengers[:passenger] if not p.on_lap)
        return segment.seats[seated] if seated < len(segment.seats) else None

    def legs(self) -> list[list[Segment]]:
        """The segments grouped by way (outbound, then return), each in flight order."""
        ways: dict[int, list[Segment]] = {}
        for segment in self.segments:
            ways.setdefault(segment.leg, []).append(segment)
        return [ways[leg] for leg in sorted(ways)]

    class Settings:
        name = "bookings"
        bson_encoders = SEALED_ENCODERS
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
            IndexModel([("rebooking.started_ms", ASCENDING)]),
            IndexModel([("departs_ms", ASCENDING)]),  # the retention sweep's (services.erasure)
            IndexModel([("return_departs_ms", ASCENDING)]),
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
