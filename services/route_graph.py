"""The route network connections are built on: which airports link and how far, and the minimum connecting
time at each hub (services.connections reads both)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from services.inventory.fares import EUR_RATES, currency_for_country
from services.inventory.network import network_airports, network_routes

DEFAULT_MCT_OVERRIDES: Mapping[str, int] = {"LHR": 90}


@dataclass(frozen=True)
class MinConnectTimes:
    """Minimum connecting time per airport, in minutes: `default` unless the airport has its own."""

    default: int = 60
    per_airport: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MCT_OVERRIDES))

    def at(self, airport: str) -> int:
        return self.per_airport.get(airport, self.default)


class RouteGraph:
    """Which airports are linked, and how far: links are flown both ways (as in the network). `currencies`:
    the currency an airport's departures are sold in, where the inventory has one rule for it (the seed prices
    in the origin's currency); a hub path with a leg that could not be converted into the first leg's currency
    (no reference rate) is then skipped before any query — on the network none is, every currency has a rate.
    Without it every path is read and unconvertible itineraries are dropped once fetched."""

    def __init__(self, links: Iterable[tuple[str, str, int]], currencies: Mapping[str, str] | None = None) -> None:
        self.out: dict[str, dict[str, int]] = {}
        self.into: dict[str, dict[str, int]] = {}
        self.currencies = dict(currencies or {})
        for a, b, km in links:
            for o, d in ((a, b), (b, a)):
                self.out.setdefault(o, {})[d] = km
                self.into.setdefault(d, {})[o] = km

    def km(self, origin: str, destination: str) -> int | None:
        return self.out.get(origin, {}).get(destination)

    def unconvertible(self, path: list[str]) -> bool:
        """True when a leg of the path is known to be sold in a currency other than the first leg's, and one of
        the two has no reference rate (EUR_RATES): no through fare could be given."""
        first = self.currencies.get(path[0])
        if first is None:
            return False
        later = (self.currencies.get(a) for a in path[1:-1])
        return any(c is not None and c != first and (c not in EUR_RATES or first not in EUR_RATES) for c in later)


@cache
def network_graph() -> RouteGraph:
    currencies = {a.iata: currency_for_country(a.country) for a in network_airports()}
    return RouteGraph(((r.origin, r.destination, r.distance_km) for r in network_routes()), currencies)
