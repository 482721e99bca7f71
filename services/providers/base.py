"""The flight-provider interface the chain in services.flights talks to, and the values it returns.

A provider searches offers, prices one again, draws its seat map and looks up airports. Every result is a
FlyO value (Flight documents, minor-unit prices, CabinLayout), so the chain and the handlers never see a
provider's own JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from core.errors import ProviderUnavailable
from core.i18n import N_
from models.aircraft import CabinLayout
from models.airport import Airport
from models.flight import Flight

# Where results come from, shown to travellers: marked for extraction, translated where shown (core.i18n.translate).
LIVE_LABEL = N_("live fares")
LOCAL_LABEL = N_("FlyO inventory")


class ProviderRejected(ProviderUnavailable):
    """The provider refused this one request (HTTP 400/404: a route, date or offer it won't serve).

    The chain still falls back, but the circuit breaker does not count it: the provider is healthy, and one
    traveller's odd query must not switch live fares off for everybody.
    """


@dataclass(frozen=True)
class Quote:
    """A fare confirmed by the provider: per passenger, in minor units of `currency`."""

    per_passenger: int
    currency: str
    offer: dict[str, object] | None = None  # the provider's priced offer, kept for the next call


@dataclass(frozen=True)
class SeatMap:
    """One cabin as the provider draws it; `unavailable` seats render as taken and cannot be held."""

    layout: CabinLayout
    unavailable: frozenset[str] = field(default_factory=frozenset)
    source: str = "static"  # "static" (aircraft type) | "amadeus" (SeatMap Display)


@dataclass(frozen=True)
class PriceCheck:
    """The fare the traveller saw (`old`) against the provider's fare now (`new`), per passenger."""

    old: int
    new: int
    currency: str
    changed: bool
    passengers: int = 1
    confirmed: bool = True  # False: the provider could not be asked; `note` says why, `new` == `old`
    note: str = ""

    @property
    def old_total(self) -> int:
        return self.old * self.passengers

    @property
    def new_total(self) -> int:
        return self.new * self.passengers


def generic_layout(cabin: str) -> CabinLayout:
    """A plain cabin for an aircraft type FlyO has no layout of (a live offer's 744, say)."""
    if cabin in ("business", "first"):
        return CabinLayout(cabin=cabin, first_row=1, last_row=4, columns="AC DF")
    return CabinLayout(cabin=cabin, first_row=10, last_row=35, columns="ABC DEF", skip_rows=[13])


class FlightProvider(Protocol):
    name: str
    label: str

    async def search(self, origins: list[str], destinations: list[str], day: date,
                     passengers: int) -> list[Flight]:
        """Flights (saved as Flight documents) from any origin to any destination on the local `day`."""
        ...

    async def price(self, flight: Flight, cabin: str) -> Quote:
        """The fare per passenger as the provider sells it now."""
        ...

    async def seat_map(self, flight: Flight, cabin: str) -> SeatMap | None:
        """The cabin's seats and which of them the provider reports taken; None when it has no map."""
        ...

    async def airports(self, keyword: str) -> list[Airport]:
        """Airports matching a city, airport name or code (not saved)."""
        ...
