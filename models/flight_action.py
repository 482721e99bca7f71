"""An admin's flight status change waiting for its "Yes, send" (/delay, /gate, /cancelflight): what the card
showed, used once (repos.one_time). The event it records is keyed by this document's id, so however the tap is
repeated the travellers are told once."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from beanie import Document
from pymongo import ASCENDING, IndexModel

from models.flight_status import FlightStatusKind


class FlightActionRequest(Document):
    flight_id: str
    flight_number: str
    departure_date: str
    kind: FlightStatusKind
    requested_by: int  # the admin who asked; only they may confirm
    delay_minutes: int | None = None  # /delay: minutes after the scheduled departure
    gate: str | None = None
    terminal: str | None = None
    reason: str = ""
    created_at: datetime
    expires_ms: int
    used_ms: int | None = None

    class Settings:
        name = "flight_action_requests"
        indexes: ClassVar[list[IndexModel]] = [IndexModel([("expires_ms", ASCENDING)])]
