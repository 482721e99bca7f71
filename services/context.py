"""The services one FlyO process uses, built once by the composition root (bot.runtime)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db import Database
    from services.bookings import BookingService
    from services.clock import Clock
    from services.conversations import ConversationStore
    from services.flights import FlightSearch
    from models.aircraft import AircraftType
    from services.airports import AirportDirectory
    from services.seats import SeatService


@dataclass
class Services:
    settings: Settings
    clock: Clock
    database: Database
    conversations: ConversationStore
    flights: FlightSearch
    seats: SeatService
    bookings: BookingService
    airports: AirportDirectory
    aircraft: dict[str, AircraftType]
    last_day: date | None = None  # last departure date of the local inventory
    started_monotonic: float = 0.0
    extras: dict[str, object] = field(default_factory=dict)
