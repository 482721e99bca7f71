"""Connections from the local inventory: direct flights, one-stop through hubs, two-stop as a last resort.

Not wired into the Telegram flow yet: a booking holds one flight until `Booking.segments` exists, so this is
the search and its measurements only (bench/connections.py). Live providers are not asked; only the local
inventory connects.

Rules. Both (all) legs in the same cabin, each with at least `passengers` seats left in it — the same
"N left" as the search (`FlightSearch.with_availability`: held and booked seats per cabin), so a connection
whose second flight is full is never offered. A layover lasts at least the hub's minimum connecting time
(`MinConnectTimes`: 60 min, LHR 90) and at most `max_layover` (8 h); an overnight layover (crossing local
midnight at the hub, or longer than `max_layover`) only with `overnight=True`, and then at most 24 h.

Price: one through fare per passenger in the currency of the first flight (`Itinerary.currency`; the seed prices
a flight in its origin country's currency, so that is the origin's, as for every local flight). A later leg sold
in another currency (LHR→DXB in GBP, DXB→SYD in AED) is converted with `services.inventory.fares.convert_fare`:
the seed's fixed reference rates `EUR_RATES` (units per euro, via the euro; every currency there has two
decimals), rounded half up to a whole minor unit per leg. `Itinerary.leg_fares` holds each leg's fare so
converted, in leg order, and `fare_per_passenger` is their sum. Only a leg whose currency (or the first's) has
no rate can't be priced: that path or itinerary is skipped and counted in `skipped_mixed_currency` — before any
query where the route graph knows the currencies (`RouteGraph.unconvertible`; on the network every currency has
a rate, so none is), else once its flights are read. These are reference prices of the local inventory only: a
connection sold by a live provider would carry the provider's own through fare (one offer, one currency), never
a sum of converted legs.

Ranking: direct flights first (by departure); connections by total time, then price, and beside a direct flight
only those faster or cheaper than the best direct one — compared in the same currency, which holds because both
are in the origin's currency.

Hubs come from the network (`services.inventory.network`, or an injected `RouteGraph`): the airports flown
to from the origin that fly to the destination, best (shortest) first. Bounds, per search:
  - one-stop: at most MAX_HUBS hubs; queries: one per origin→hub route (the travel day) and one per hub→
    destination route and hub-local day an onward departure may fall on: without `overnight` only the days
    the inbound flights land on (a layover can't cross midnight; usually 1), with it every day the layover
    window touches (2–3);
  - two-stop, only when there is neither a direct flight nor a one-stop: at most MAX_TWO_STOP_PATHS hub pairs,
    the same per-route-and-day queries for each of the three legs; a route and day already read by this
    search (the one-stop's first and last legs) is not read again;
  - at most MAX_CHAINS partial itineraries per hub path (earliest arrival kept), and seats are counted (one
    query per flight) only for the legs of the best candidates, SEAT_BATCH itineraries at a time.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from cachetools import TTLCache

from models.flight import Flight, route_key
from repos.connections import ConnectionRepo
from services.flights import FlightOption, FlightSearch
from services.inventory.network import network_airports
from services.route_graph import MinConnectTimes, RouteGraph, network_graph
from services.through_fares import through_fares

MAX_HUBS = 6  # one-stop hub airports tried per search
MAX_TWO_STOP_PATHS = 4  # (hub, hub) pairs tried per search
MAX_CHAINS = 200  # partial itineraries kept per hub path
SEAT_BATCH = 20  # candidate itineraries whose legs' seats are counted at once
OVERNIGHT_MAX_LAYOVER = timedelta(hours=24)
TIMETABLE_ROUTES = 20_000  # route-and-day reads kept (a few MB of flights)
TIMETABLE_SECONDS = 120
@dataclass(frozen=True)
class Layover:
    airport: str
    minutes: int
    overnight: bool  # crosses local midnight at the hub, or longer than the search's max layover


@dataclass
class Itinerary:
    """One way to fly: the legs (each with its seats left per cabin), in one cabin, at one through fare in the
    first flight's currency."""

    legs: list[FlightOption]
    cabin: str
    fare_per_passenger: int  # minor units of `currency`: always sum(leg_fares)
    currency: str  # the first flight's (the origin's, in the seed)
    layovers: list[Layover]
    leg_fares: list[int]  # each leg's fare per passenger in `cabin`, in `currency` (converted), in leg order

    @property
    def stops(self) -> int:
        return len(self.legs) - 1

    @property
    def departs_at(self) -> datetime:
        return self.legs[0].flight.departs_at

    @property
    def arrives_at(self) -> datetime:
        return self.legs[-1].flight.arrives_at

    @property
    def total_minutes(self) -> int:
        return int((self.arrives_at - self.departs_at).total_seconds() // 60)


@dataclass
class ConnectionResult:
    options: list[Itinerary]  # direct first (by departure), then connections (by total time, price)
    skipped_mixed_currency: int = 0  # hub paths (or fetched itineraries) with a leg that can't be converted
    two_stop_tried: bool = False
    queries: int = 0  # route-and-day reads (seat counts not included)


Chain = tuple[Flight, ...]


class ConnectionSearch:
    """Direct flights and connections for one route and day (see the module docstring for rules and bounds)."""

    def __init__(self, flights: FlightSearch, *, graph: RouteGraph | None = None,
                 zones: Mapping[str, str] | None = None, mct: MinConnectTimes | None = None,
                 max_layover: timedelta = timedelta(hours=8), repo: ConnectionRepo | None = None) -> None:
        self.flights = flights
        self.graph = graph or network_graph()
        self.zones = zones or _zones_of(flights)
        self.mct = mct or MinConnectTimes()
        self.max_layover = max_layover
        self.repo = repo or ConnectionRepo()
        # Recent route-and-day reads, shared by searches: the timetable changes only with the seed, while every
        # results screen (and its sort, page and ±1 day) searches again. Seats left are always counted afresh.
        self._timetable: TTLCache[str, list[Flight]] = TTLCache(
            maxsize=TIMETABLE_ROUTES, ttl=TIMETABLE_SECONDS, timer=lambda: flights.clock.now_ms() / 1000)

    async def find(self, origins: list[str], destinations: list[str], day: date, passengers: int = 1,
                   cabin: str = "economy", *, overnight: bool = False, max_options: int = 10) -> ConnectionResult:
        """`day` is the travel day in the origin's local time (the inventory's `departure_date`)."""
        result = ConnectionResult([])
        reads: dict[str, list[Flight]] = {}  # this search's route-and-day reads: each key is read once
        ends = set(origins) | set(destinations)
        one_stop = self._one_stop_paths(origins, destinations, ends, result)
        direct_keys = [route_key(o, d, day.isoformat()) for o in origins for d in destinations if o != d]
        directs_raw, chains = await asyncio.gather(
            self._read(direct_keys, reads, result), self._chains(one_stop, day, overnight, reads, result))
        directs = await self._bookable([(f,) for batch in directs_raw.values() for f in batch], cabin,
                                       passengers, limit=None)
        directs.sort(key=lambda o: o.departs_at)
        connections = await self._ranked(self._priced(chains, cabin, result), directs, cabin, passengers,
                                         max_options)
        if not directs and not connections:
            result.two_stop_tried = True
            paths = self._two_stop_paths(origins, destinations, ends, result)
            two_stop = await self._chains(paths, day, overnight, reads, result)
            connections = await self._ranked(self._priced(two_stop, cabin, result), directs, cabin, passengers,
                                             max_options)
        result.options = directs + connections
        return result

    async def _ranked(self, candidates: list[Itinerary], directs: list[Itinerary], cabin: str, passengers: int,
                      max_options: int) -> list[Itinerary]:
        """The bookable candidates by total time, then price; beside direct flights only the faster or cheaper."""
        if directs:
            fastest = min(o.total_minutes for o in directs)
            cheapest: dict[str, int] = {}
            for o in directs:
                cheapest[o.currency] = min(o.fare_per_passenger, cheapest.get(o.currency, o.fare_per_passenger))
            candidates = [c for c in candidates if c.total_minutes < fastest
                          or c.fare_per_passenger < cheapest.get(c.currency, -1)]
        candidates.sort(key=lambda c: (c.total_minutes, c.fare_per_passenger, c.departs_at))
        return await self._bookable([tuple(leg.flight for leg in c.legs) for c in candidates], cabin,
                                    passengers, limit=max_options)

    # ---- hub paths ---------------------------------------------------------------------------------
    def _one_stop_paths(self, origins: list[str], destinations: list[str], ends: set[str],
                        result: ConnectionResult) -> list[list[str]]:
        paths: list[tuple[int, list[str]]] = []
        for o in origins:
            for d in (d for d in destinations if d != o):
                for hub, km in self.graph.out.get(o, {}).items():
                    onward = self.graph.km(hub, d)
                    if onward is not None and hub not in ends:
                        paths.append((km + onward, [o, hub, d]))
        return self._affordable(sorted(paths), MAX_HUBS, result)

    def _two_stop_paths(self, origins: list[str], destinations: list[str], ends: set[str],
                        result: ConnectionResult) -> list[list[str]]:
        paths: list[tuple[int, list[str]]] = []
        for o in origins:
            for d in (d for d in destinations if d != o):
                for first, km1 in self.graph.out.get(o, {}).items():
                    for second, km3 in self.graph.into.get(d, {}).items():
                        km2 = self.graph.km(first, second)
                        if km2 is not None and not {first, second} & ends and first != second:
                            paths.append((km1 + km2 + km3, [o, first, second, d]))
        return self._affordable(sorted(paths), MAX_TWO_STOP_PATHS, result)

    def _affordable(self, paths: list[tuple[int, list[str]]], cap: int, result: ConnectionResult) -> list[list[str]]:
        """The first `cap` paths (shortest first) not known to be unconvertible; those are counted."""
        kept = [p for _, p in paths if not self.graph.unconvertible(p)]
        result.skipped_mixed_currency += len(paths) - len(kept)
        return kept[:cap]

    # ---- building chains leg by leg ----------------------------------------------------------------
    async def _read(self, keys: Iterable[str], reads: dict[str, list[Flight]],
                    result: ConnectionResult) -> dict[str, list[Flight]]:
        """route_key -> its local flights, reading (concurrently) only the keys this search hasn't read yet:
        two-stop paths start and end on routes the one-stop search has already read."""
        wanted = list(dict.fromkeys(keys))
        for key in wanted:
            if key not in reads and (known := self._timetable.get(key)) is not None:
                reads[key] = known
        missing = [k for k in wanted if k not in reads]
        if missing:
            found = await self.repo.on_routes(missing)
            reads.update(found)
            self._timetable.update(found)
            result.queries += len(missing)
        return {k: reads[k] for k in wanted}

    async def _chains(self, paths: list[list[str]], day: date, overnight: bool, reads: dict[str, list[Flight]],
                      result: ConnectionResult) -> list[Chain]:
        """Every time-valid chain of flights along `paths`; one round of concurrent reads per leg."""
        if not paths:
            return []
        first_keys = {tuple(p): route_key(p[0], p[1], day.isoformat()) for p in paths}
        found = await self._read(first_keys.values(), reads, result)
        chains: dict[tuple[str, ...], list[Chain]] = {
            k: [(f,) for f in found[key]] for k, key in first_keys.items()}
        for leg in range(1, max(len(p) for p in paths) - 1):
            wanted: dict[tuple[str, ...], list[str]] = {}
            for path, partial in chains.items():
                if leg + 1 < len(path) and partial:
                    wanted[path] = self._keys_after(path[leg], path[leg + 1], partial, overnight)
            found = await self._read((k for keys in wanted.values() for k in keys), reads, result)
            for path, keys in wanted.items():
                onward = sorted((f for k in keys for f in found[k]), key=lambda f: f.departs_at)
                grown = [(*c, f) for c in chains[path] for f in onward if self._layover_ok(c[-1], f, overnight)]
                chains[path] = sorted(grown, key=lambda c: c[-1].arrives_at)[:MAX_CHAINS]
        return [c for path, partial in chains.items() for c in partial if len(c) == len(path) - 1]

    def _window(self, hub: str, overnight: bool) -> tuple[timedelta, timedelta]:
        longest = OVERNIGHT_MAX_LAYOVER if overnight else self.max_layover
        return timedelta(minutes=self.mct.at(hub)), longest

    def _keys_after(self, hub: str, onward: str, partial: list[Chain], overnight: bool) -> list[str]:
        """route_keys of hub→onward on every hub-local day a next departure may fall on. Without `overnight` a
        layover can't cross midnight at the hub: only the days the inbound flights land on (with the minimum
        connecting time still before midnight), usually one."""
        shortest, longest = self._window(hub, overnight)
        zone = ZoneInfo(self.zones[hub])
        if not overnight:
            landed = [c[-1].arrives_at for c in partial]  # absolute times: `+ shortest` is not wall-clock time
            days = {at.astimezone(zone).date() for at in landed
                    if (at + shortest).astimezone(zone).date() == at.astimezone(zone).date()}
            return [route_key(hub, onward, d.isoformat()) for d in sorted(days)]
        first = (min(c[-1].arrives_at for c in partial) + shortest).astimezone(zone).date()
        last = (max(c[-1].arrives_at for c in partial) + longest).astimezone(zone).date()
        return [route_key(hub, onward, (first + timedelta(days=n)).isoformat())
                for n in range((last - first).days + 1)]

    def _layover(self, inbound: Flight, outbound: Flight) -> Layover:
        gap = outbound.departs_at - inbound.arrives_at
        zone = ZoneInfo(self.zones[inbound.destination])
        crosses = inbound.arrives_at.astimezone(zone).date() != outbound.departs_at.astimezone(zone).date()
        return Layover(inbound.destination, int(gap.total_seconds() // 60), crosses or gap > self.max_layover)

    def _layover_ok(self, inbound: Flight, outbound: Flight, overnight: bool) -> bool:
        shortest, longest = self._window(inbound.destination, overnight)
        gap = outbound.departs_at - inbound.arrives_at
        if not shortest <= gap <= longest:
            return False
        return overnight or not self._layover(inbound, outbound).overnight

    # ---- prices and seats --------------------------------------------------------------------------
    def _priced(self, chains: list[Chain], cabin: str, result: ConnectionResult) -> list[Itinerary]:
        priced = []
        for chain in chains:
            option = self._itinerary(chain, {}, cabin)
            if option is None:
                result.skipped_mixed_currency += all(cabin in f.fares for f in chain)
                continue
            priced.append(option)
        return priced

    def _itinerary(self, chain: Chain, left: Mapping[str, dict[str, int]], cabin: str) -> Itinerary | None:
        """The chain as an itinerary in `cabin`, or None when a leg lacks the cabin or its fare can't be
        converted into the first flight's currency."""
        if any(cabin not in f.fares for f in chain):
            return None
        fares = _through(chain, cabin)
        if fares is None:
            return None
        legs = [FlightOption(f, left.get(str(f.id), {})) for f in chain]
        layovers = [self._layover(a, b) for a, b in itertools.pairwise(chain)]
        return Itinerary(legs, cabin, sum(fares), chain[0].currency, layovers, fares)

    async def _bookable(self, chains: list[Chain], cabin: str, passengers: int,
                        limit: int | None) -> list[Itinerary]:
        """The chains (in order) whose every leg has `passengers` seats left in `cabin`, up to `limit`;
        seats counted with FlightSearch.with_availability, SEAT_BATCH chains at a time."""
        bookable: list[Itinerary] = []
        seats: dict[str, dict[str, int]] = {}
        batch = len(chains) if limit is None else SEAT_BATCH
        for start in range(0, len(chains), max(batch, 1)):
            group = chains[start:start + batch]
            unknown = list({str(f.id): f for c in group for f in c if str(f.id) not in seats}.values())
            for counted in await self.flights.with_availability(unknown):
                seats[str(counted.flight.id)] = counted.seats_left
            for chain in group:
                if all(seats[str(f.id)].get(cabin, 0) >= passengers for f in chain):
                    option = self._itinerary(chain, seats, cabin)
                    if option is not None:
                        bookable.append(option)
                if limit is not None and len(bookable) >= limit:
                    return bookable
        return bookable


@cache
def _network_zones() -> dict[str, str]:
    return {a.iata: a.tz for a in network_airports()}


def _through(chain: Chain, cabin: str) -> list[int] | None:
    """Each flight's share of the through fare (services.through_fares: the rule the booking is priced by)."""
    priced = through_fares(chain, cabin)
    return priced[1] if priced is not None else None


def _zones_of(flights: FlightSearch) -> Mapping[str, str]:
    """IATA -> IANA zone: the search's reference data (learned airports included), else the network's."""
    zones = dict(_network_zones())
    if flights.reference is not None:
        zones.update({code: a.tz for code, a in flights.reference.airports.by_code.items()})
    return zones
