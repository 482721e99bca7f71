"""FlightSearch's provider caches: hits within the TTL, expiry on the injected clock, bounded by maxsize.

No database: the provider, the seat counts and the inventory's by-id read are stubs, so only the caching is tested.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from core.clock import Clock
from core.errors import ProviderUnavailable
from services.flights import LOCAL_LABEL, FlightSearch
from services.providers.base import Quote, SeatMap, generic_layout

DAY = date(2027, 3, 1)


class CountingProvider:
    name = "stub"
    label = "live fares"

    def __init__(self) -> None:
        self.searches = self.prices = self.maps = 0
        self.fail = False

    async def search(self, origins: list[str], destinations: list[str], day: date, passengers: int) -> list[Any]:
        self.searches += 1
        if self.fail:
            raise ProviderUnavailable("down")
        return [SimpleNamespace(id=f"{origins[0]}-{destinations[0]}-{day}", capacity={"economy": 9})]

    async def price(self, flight: Any, cabin: str) -> Quote:
        self.prices += 1
        return Quote(per_passenger=12345, currency="EUR")

    async def seat_map(self, flight: Any, cabin: str) -> SeatMap | None:
        self.maps += 1
        return SeatMap(generic_layout(cabin))

    async def airports(self, keyword: str) -> list[Any]:
        return []


class StubSeats:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def taken_counts(self, ids: Any) -> dict[str, dict[str, int]]:
        list(ids)
        return {}


class StubFlights:
    async def by_ids(self, ids: list[Any]) -> list[Any]:
        return [SimpleNamespace(id=i, capacity={"economy": 9}) for i in ids]

    async def save_fare(self, *args: Any) -> None:
        return None

    async def on_route(self, key: str) -> list[Any]:
        return []


def build(**options: Any) -> tuple[FlightSearch, CountingProvider, Clock]:
    clock = Clock()
    provider = CountingProvider()
    search = FlightSearch(StubSeats(clock), [provider], clock=clock, **options)  # type: ignore[arg-type,list-item]
    search.local.flights = StubFlights()  # type: ignore[assignment]
    return search, provider, clock


def live_flight(number: str = "XY1") -> Any:
    return SimpleNamespace(id=number, source="stub", flight_number=number, fares={"economy": 12345}, currency="EUR")


async def test_search_results_hit_within_the_ttl_and_expire_after_it() -> None:
    search, provider, clock = build(cache_ttl=timedelta(minutes=5))
    first = await search.search(["LHR"], ["JFK"], DAY, 1)
    clock.advance(timedelta(minutes=4, seconds=59))
    again = await search.search(["LHR"], ["JFK"], DAY, 1)
    assert provider.searches == 1 and [o.flight.id for o in again.options] == [o.flight.id for o in first.options]
    clock.advance(timedelta(seconds=2))
    await search.search(["LHR"], ["JFK"], DAY, 1)
    assert provider.searches == 2


async def test_a_fallback_is_cached_only_briefly() -> None:
    search, provider, clock = build(fallback_ttl=timedelta(seconds=30), breaker_threshold=99)
    provider.fail = True
    first = await search.search(["LHR"], ["JFK"], DAY, 1)
    assert first.source_label == LOCAL_LABEL
    await search.search(["LHR"], ["JFK"], DAY, 1)
    assert provider.searches == 1  # paging right after a timeout does not wait again
    clock.advance(timedelta(seconds=31))
    provider.fail = False
    assert (await search.search(["LHR"], ["JFK"], DAY, 1)).source_label == "live fares"
    assert provider.searches == 2


async def test_ten_thousand_distinct_searches_keep_at_most_maxsize_entries() -> None:
    search, provider, _clock = build(cache_size=100)
    for n in range(10_000):
        await search.search([f"A{n}"], ["JFK"], DAY, 1)
    assert provider.searches == 10_000
    assert len(search._results) == 100  # the oldest were evicted, memory stays bounded
    await search.search(["A9999"], ["JFK"], DAY, 1)  # the newest is still cached
    await search.search(["A0"], ["JFK"], DAY, 1)  # the first was evicted long ago
    assert provider.searches == 10_001


async def test_the_search_cache_evicts_the_least_recently_used_at_maxsize() -> None:
    search, provider, _clock = build(cache_size=2)
    await search.search(["AAA"], ["JFK"], DAY, 1)
    await search.search(["BBB"], ["JFK"], DAY, 1)
    await search.search(["CCC"], ["JFK"], DAY, 1)  # full: AAA goes
    assert len(search._results) == 2
    await search.search(["CCC"], ["JFK"], DAY, 1)
    await search.search(["BBB"], ["JFK"], DAY, 1)
    assert provider.searches == 3
    await search.search(["AAA"], ["JFK"], DAY, 1)
    assert provider.searches == 4


async def test_seat_maps_are_cached_for_the_ttl() -> None:
    search, provider, clock = build(cache_ttl=timedelta(minutes=5))
    flight = live_flight()
    layout, _ = await search.layout(flight, "economy")
    for _ in range(5):  # a seat map redrawn after every tap
        assert (await search.layout(flight, "economy"))[0] == layout
    assert provider.maps == 1
    clock.advance(timedelta(minutes=5, seconds=1))
    await search.layout(flight, "economy")
    assert provider.maps == 2


async def test_seat_maps_are_bounded() -> None:
    search, provider, _clock = build(cache_size=10)
    for n in range(500):
        await search.layout(live_flight(f"XY{n}"), "economy")
    assert len(search._maps) == 10 and provider.maps == 500


@pytest.mark.parametrize(("later", "asks"), [(timedelta(seconds=59), 1), (timedelta(seconds=61), 2)])
async def test_reprices_are_cached_for_a_minute(later: timedelta, asks: int) -> None:
    search, provider, clock = build()
    flight = live_flight()
    check = await search.reprice(flight, 2, "economy")
    assert check.new == 12345 and not check.changed
    clock.advance(later)
    await search.reprice(flight, 2, "economy")
    assert provider.prices == asks


async def test_reprices_are_bounded() -> None:
    search, provider, _clock = build(cache_size=5)
    for n in range(50):
        await search.reprice(live_flight(f"XY{n}"), 1, "economy")
    assert len(search._quotes) == 5 and provider.prices == 50
