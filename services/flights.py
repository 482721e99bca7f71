"""Flight search over providers: live providers (Amadeus) first, the local inventory (MongoDB) as fallback.

Results are `Flight` documents whatever their source (live offers are saved as Flight documents with
`source="amadeus"`), so seats, holds, bookings and rendering never care where a flight came from. What the
traveller is told does care: every result says its source ("live fares" or "FlyO inventory") and why a
fallback happened — never a silent switch.

Each live provider sits behind a circuit breaker (services.providers.circuit) and its calls are bounded by
the adapter's timeout. Search results, seat maps and re-prices are cached in process for a few minutes, so
paging, going back and redrawing a seat map after every tap do not call the provider again. The caches are
cachetools TTL caches on the injected clock (a test moves time instead of sleeping) and bounded: ten thousand
distinct searches keep at most `cache_size` entries, dropping the expired and then the least recently used.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from beanie import PydanticObjectId
from cachetools import TLRUCache, TTLCache

from core.clock import Clock
from core.errors import ProviderUnavailable
from models.aircraft import CabinLayout
from models.airport import Airport
from models.flight import Flight
from services.airports import AirportDirectory
from services.providers.base import (
    LIVE_LABEL,
    LOCAL_LABEL,
    FlightProvider,
    PriceCheck,
    ProviderRejected,
    Quote,
    SeatMap,
)
from services.providers.circuit import CircuitBreaker
from services.providers.local import LocalProvider
from services.reference import ReferenceData
from services.seats import SeatService

__all__ = ["LIVE_LABEL", "LOCAL_LABEL", "FlightOption", "FlightProvider", "FlightSearch", "LocalProvider",
           "PriceCheck", "SearchResult"]

log = logging.getLogger(__name__)

# The flights read during the current update (handlers.ops starts one per update); None outside updates.
_flights_this_update: ContextVar[dict[str, Flight] | None] = ContextVar("flyo_flights_this_update", default=None)


def start_update_memo() -> None:
    """Flights read from now on in this task are read once (a new update: nothing remembered from the last)."""
    _flights_this_update.set({})
T = TypeVar("T")


@dataclass
class FlightOption:
    """A flight as the traveller compares it: fares and seats left per cabin."""

    flight: Flight
    seats_left: dict[str, int]

    def fare(self, cabin: str) -> int | None:
        return self.flight.fares.get(cabin)


@dataclass(frozen=True)
class SourceNote:
    """Why the results come from another source than the first one asked; the handler words it (in the
    traveller's language: results are cached and shared, so the service keeps no sentence)."""

    source: str  # the label of the source that was skipped (LIVE_LABEL…)
    reason: str | None  # why it was unavailable; None: it had no flights for this route and day


@dataclass
class SearchResult:
    options: list[FlightOption]
    source_label: str
    notes: list[SourceNote] = field(default_factory=list)


@dataclass
class _Cached:
    flight_ids: list[PydanticObjectId]
    label: str
    notes: list[SourceNote]
    ttl_seconds: float  # live results live longer than a fallback


QUOTE_TTL = timedelta(seconds=60)  # a review redrawn after an edit needn't ask again, a new review later should


LOCAL_FLIGHT_TTL_SECONDS = 60


class FlightSearch:
    """Asks the live providers first, then the local inventory; labels where results came from."""

    def __init__(self, seats: SeatService, live: list[FlightProvider] | None = None, *,
                 clock: Clock | None = None, reference: ReferenceData | None = None,
                 cache_ttl: timedelta = timedelta(minutes=5), fallback_ttl: timedelta = timedelta(seconds=30),
                 breaker_threshold: int = 3, breaker_cooldown: timedelta = timedelta(seconds=60),
                 cache_size: int = 2000) -> None:
        self.seats = seats
        self.clock = clock or seats.clock
        self.local = LocalProvider(self.clock)
        self.reference = reference  # learned airports go here, so every service shows them
        self.live = live or []
        self.breakers = {p.name: CircuitBreaker(self.clock, breaker_threshold, breaker_cooldown)
                         for p in self.live}
        self.cache_seconds = cache_ttl.total_seconds()
        # A fallback is cached briefly: paging right after a timeout must not wait again, yet live fares
        # should come back soon after the provider recovers.
        self.fallback_seconds = fallback_ttl.total_seconds()
        self._results: TLRUCache[tuple[Any, ...], _Cached, float] = TLRUCache(
            cache_size, lambda _key, cached, now: now + cached.ttl_seconds, timer=self._seconds)
        self._maps: TTLCache[tuple[str, str], SeatMap | None, float] = TTLCache(
            cache_size, self.cache_seconds, timer=self._seconds)
        self._quotes: TTLCache[tuple[str, str], Quote, float] = TTLCache(
            cache_size, QUOTE_TTL.total_seconds(), timer=self._seconds)
        # The local inventory's flights by id, for a minute: a seat tap and the map it redraws need the flight's
        # aircraft, times and cut-off, which the inventory doesn't change; fares are priced again from the
        # database (LocalProvider.price) before anything is booked. Live flights are re-read (their offers move).
        self._local_flights: TTLCache[str, Flight, float] = TTLCache(cache_size, LOCAL_FLIGHT_TTL_SECONDS,
                                                                      timer=self._seconds)

    def _seconds(self) -> float:
        """The caches' timer: the injected clock, so tests expire entries by moving it."""
        return self.clock.now_ms() / 1000

    # ---- search ------------------------------------------------------------------------------------
    async def search(self, origins: list[str], destinations: list[str], day: date,
                     passengers: int) -> SearchResult:
        key = (tuple(sorted(origins)), tuple(sorted(destinations)), day.isoformat(), passengers)
        cached = self._results.get(key)
        if cached is not None:
            found = await self.local.flights.by_ids(cached.flight_ids)
            flights, label, notes = found, cached.label, list(cached.notes)
        else:
            flights, label, notes = await self._ask(origins, destinations, day, passengers)
            if self.live:
                ttl = self.cache_seconds if label != LOCAL_LABEL else self.fallback_seconds
                ids = [f.id for f in flights if f.id]
                self._results[key] = _Cached(ids, label, notes, ttl)
        options = await self.with_availability(flights)
        bookable = [o for o in options if max(o.seats_left.values(), default=0) >= passengers]
        return SearchResult(bookable, label, notes)

    async def _ask(self, origins: list[str], destinations: list[str], day: date,
                   passengers: int) -> tuple[list[Flight], str, list[SourceNote]]:
        notes: list[SourceNote] = []
        for provider in self.live:
            try:
                call = provider.search(origins, destinations, day, passengers)
                flights = await self._guarded(provider, call)
            except ProviderUnavailable as exc:
                notes.append(SourceNote(provider.label, str(exc)))
                continue
            if flights:
                return flights, provider.label, notes
            notes.append(SourceNote(provider.label, None))
        return await self.local.search(origins, destinations, day, passengers), LOCAL_LABEL, notes

    async def _guarded(self, provider: FlightProvider, call: Awaitable[T]) -> T:
        """Run one provider call through its breaker; every failure comes out as ProviderUnavailable."""
        breaker = self.breakers[provider.name]
        if not breaker.allow():
            close = getattr(call, "close", None)
            if callable(close):
                close()  # never awaited: close the coroutine so Python doesn't warn about it
            wait = breaker.retry_in_seconds()
            raise ProviderUnavailable(f"paused after repeated errors, retrying in {wait} s")
        try:
            result = await call
        except ProviderRejected:
            breaker.success()  # it answered: healthy, it just won't serve this request
            raise
        except ProviderUnavailable as exc:
            breaker.failure()
            log.warning("%s failed: %s (breaker %s)", provider.name, exc, breaker.state)
            raise
        except Exception as exc:
            # A bug or a database error while saving offers must not cost the traveller the results.
            breaker.failure()
            log.exception("%s call crashed", provider.name)
            raise ProviderUnavailable("unexpected error") from exc
        except BaseException:  # cancelled: no verdict on the provider
            breaker.release()
            raise
        breaker.success()
        return result

    async def with_availability(self, flights: list[Flight]) -> list[FlightOption]:
        counts = await self.seats.taken_counts(str(f.id) for f in flights)
        options = []
        for flight in flights:
            taken = counts.get(str(flight.id), {})
            left = {cabin: max(0, cap - taken.get(cabin, 0)) for cabin, cap in flight.capacity.items()}
            options.append(FlightOption(flight, left))
        return options

    async def nearest_dates(self, origins: list[str], destinations: list[str], day: date, today: date,
                            last: date, span: int = 3, passengers: int = 1) -> list[date]:
        around = [day + timedelta(days=d) for d in range(-span, span + 1) if d]
        candidates = [d for d in around if today <= d <= last]
        found = await self.local.dates_with_flights(origins, destinations, candidates)
        if passengers > 1:  # a day counts only if a flight there has enough free seats
            results = await asyncio.gather(*(self.local.search(origins, destinations, d, passengers) for d in found))
            options = await asyncio.gather(*(self.with_availability(r) for r in results))
            found = {d for d, opts in zip(found, options, strict=True)
                     if any(max(o.seats_left.values(), default=0) >= passengers for o in opts)}
        return sorted(found, key=lambda d: (abs((d - day).days), d))

    async def get(self, flight_id: str) -> Flight | None:
        """The flight; read once per update (the seat tap and the map it redraws share one read), and a local
        inventory flight at most once a minute."""
        memo = _flights_this_update.get()
        if memo is not None and flight_id in memo:
            return memo[flight_id]
        found = self._local_flights.get(flight_id)
        if found is None:
            try:
                found = await self.local.flights.get(flight_id)  # None for a malformed id of an old or forged button
            except Exception:  # whatever goes wrong, the caller says the flight is gone
                return None
            if found is not None and found.source == "local":
                self._local_flights[flight_id] = found
        if memo is not None and found is not None:
            memo[flight_id] = found
        return found

    # ---- seat maps ---------------------------------------------------------------------------------
    async def layout(self, flight: Flight, cabin: str) -> tuple[CabinLayout | None, set[str]]:
        """The cabin's layout and the seats the provider reports occupied or blocked.

        A live flight uses the provider's seat map when it answers, else its aircraft type's static layout.
        Either is cached, so the map drawn and the seat tapped a moment later come from the same layout.
        """
        provider = self._provider(flight.source)
        if provider is None:
            seat_map = await self.local.seat_map(flight, cabin)
        else:
            key = (str(flight.id), cabin)
            if key in self._maps:  # a cached None means "no provider map": use the static layout
                seat_map = self._maps[key]
            else:
                try:
                    seat_map = await self._guarded(provider, provider.seat_map(flight, cabin))
                except ProviderUnavailable as exc:
                    log.info("seat map of %s from the aircraft type: %s", flight.flight_number, exc)
                    seat_map = None
                if seat_map is None:
                    seat_map = await self.local.seat_map(flight, cabin)
                self._maps[key] = seat_map
        if seat_map is None:
            return None, set()
        return seat_map.layout, set(seat_map.unavailable)

    # ---- price check before review -----------------------------------------------------------------
    async def reprice(self, flight: Flight, passengers: int, cabin: str | None = None,
                      seen: int | None = None, seen_currency: str | None = None) -> PriceCheck:
        """Ask the flight's provider for its fare now; `seen` (and `seen_currency`) is what the traveller saw.

        A new fare is saved on the flight (and the priced offer kept for the next call) but the traveller's
        draft is not touched: the caller shows old → new and waits for consent.
        """
        cabin = cabin or next(iter(flight.fares))
        old = seen if seen is not None else flight.fares[cabin]
        shown_currency = seen_currency or flight.currency
        provider = self._provider(flight.source)
        if provider is None:
            quote = await self.local.price(flight, cabin)
        else:
            key = (str(flight.id), cabin)
            cached = self._quotes.get(key)
            if cached is None:
                try:
                    cached = await self._guarded(provider, provider.price(flight, cabin))
                except ProviderUnavailable as exc:
                    note = (f"Couldn't confirm the {provider.label} price just now ({exc}); "
                            "the fare is the one from your search.")
                    return PriceCheck(old, old, shown_currency, False, passengers, confirmed=False,
                                      note=note)
                await self._save_quote(flight, cabin, cached)
                self._quotes[key] = cached
            quote = cached
        changed = quote.per_passenger != old or quote.currency != shown_currency
        return PriceCheck(old, quote.per_passenger, quote.currency, changed, passengers)

    async def _save_quote(self, flight: Flight, cabin: str, quote: Quote) -> None:
        await self.local.flights.save_fare(flight, cabin, quote.per_passenger, quote.currency, quote.offer)
        flight.fares[cabin] = quote.per_passenger
        flight.currency = quote.currency

    # ---- airports ----------------------------------------------------------------------------------
    async def learn_airports(self, directory: AirportDirectory, text: str) -> AirportDirectory | None:
        """Ask live providers for airports the local list lacks; a bigger directory when any were found.

        New airports are saved (insert-only, so the seeded network is never rewritten) and so known to the
        next start too; the bigger directory also replaces the injected reference data's, so the payment
        texts, e-mails and sweeps of this process know them at once.
        """
        if not self.live or len(text.strip()) < 3:
            return None
        new: dict[str, Airport] = {}
        for provider in self.live:
            try:
                found = await self._guarded(provider, provider.airports(text))
            except ProviderUnavailable as exc:
                log.info("airport lookup for %r without %s: %s", text, provider.name, exc)
                continue
            new.update({a.iata: a for a in found if directory.get(a.iata) is None and a.iata not in new
                        and not _other_city_of_same_name(directory, a)})
        if not new:
            return None
        for airport in new.values():
            await self.local.airport_repo.add_if_missing(airport)
        learned = AirportDirectory([*directory.by_code.values(), *new.values()])
        if self.reference is not None:
            self.reference.airports = learned
        return learned

    # ---- helpers -----------------------------------------------------------------------------------
    def _provider(self, source: str) -> FlightProvider | None:
        return next((p for p in self.live if p.name == source), None)



def _other_city_of_same_name(directory: AirportDirectory, airport: Airport) -> bool:
    # London, Ontario (YXU) must not join "London" and turn up among the choices for London, England.
    city = airport.city.casefold()
    return any(a.city.casefold() == city and a.country != airport.country for a in directory.by_code.values())

