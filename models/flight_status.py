"""What happens to a flight after it is sold (issue #18): status events as they arrive, and each flight's current
state built from them.

Every event is stored once (`event_key` is unique: a feed's own id, or the admin's confirmed request), with the
time it describes (`at_ms`), its source and who sent it; `FlightState` is the latest of them per flight, moved only
by an event newer than the one it shows, so a late or replayed event never rolls a flight back. Travellers are
told of an event by the notification outbox, one row per event and booking (services.flight_status); `fanned_ms`
marks an event whose rows are all queued, so a crash in the middle is finished by the sweep.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from beanie import Document
from pymongo import ASCENDING, IndexModel


class FlightStatusKind(StrEnum):
    SCHEDULED = "scheduled"
    DELAYED = "delayed"  # new times
    GATE = "gate"  # gate and/or terminal assigned or changed
    BOARDING = "boarding"
    DEPARTED = "departed"
    LANDED = "landed"
    CANCELLED = "cancelled"
    DIVERTED = "diverted"


# What a state can no longer leave: a cancelled flight does not board, a landed one does not depart again.
FINAL = frozenset({FlightStatusKind.CANCELLED, FlightStatusKind.LANDED, FlightStatusKind.DIVERTED})


class FlightStatusEvent(Document):
    event_key: str  # unique: "admin:<request id>" or "<feed>:<its id>"
    flight_id: str
    flight_number: str
    departure_date: str  # the origin's local date, as the flight is named ("FO280 2026-12-03")
    kind: FlightStatusKind
    at_ms: int  # when it happened (the feed's time, or the admin's confirmation)
    source: str  # "admin:<telegram id>" or the feed's name
    departs_ms: int | None = None  # the new (estimated) departure, for DELAYED
    arrives_ms: int | None = None
    gate: str | None = None
    terminal: str | None = None
    diverted_to: str | None = None  # an airport code, for DIVERTED
    reason: str = ""  # shown to travellers
    received_at: datetime
    received_ms: int = 0
    fanned_ms: int | None = None  # every traveller's alert queued (None: the sweep finishes it)
    stale: bool = False  # older than the flight's state when it arrived: stored, applied to nothing, told nobody

    class Settings:
        name = "flight_status_events"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("event_key", ASCENDING)], unique=True),
            IndexModel([("flight_id", ASCENDING)]),
            IndexModel([("fanned_ms", ASCENDING)]),
        ]


class FlightState(Document):
    """A flight's status now: the newest event applied (scheduled times until one changes them)."""

    flight_id: str
    kind: FlightStatusKind = FlightStatusKind.SCHEDULED
    as_of_ms: int = 0  # `at_ms` of the event it shows
    departs_ms: int | None = None  # estimated, when a delay moved it
    arrives_ms: int | None = None
    gate: str | None = None
    terminal: str | None = None
    diverted_to: str | None = None
    reason: str = ""
    last_event_key: str = ""

    class Settings:
        name = "flight_states"
        indexes: ClassVar[list[IndexModel]] = [IndexModel([("flight_id", ASCENDING)], unique=True)]
