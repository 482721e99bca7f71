"""Reference data: the airports and aircraft types, and the local inventory's last day.

Loaded once by the composition root (bot.runtime) and injected into every service that shows airports
(payments, sweeps, flight search); it changes only when a live provider teaches FlyO an airport
(`FlightSearch.learn_airports`), which replaces `airports` here, so every holder sees it at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from models.aircraft import AircraftType
from services.airports import AirportDirectory


@dataclass
class ReferenceData:
    airports: AirportDirectory = field(default_factory=lambda: AirportDirectory([]))
    aircraft: dict[str, AircraftType] = field(default_factory=dict)
    last_day: date | None = None  # last departure date of the local inventory
    bot_username: str | None = None  # learned when the bot starts: e-mails link to https://t.me/<it>
