"""The provider chain: Amadeus first, the local inventory as labelled fallback, breaker, cache, price, seats.

Through the real `amadeus` SDK against the loopback fake (builders of the published shapes); the database is
the test nx-27017 with the seeded local inventory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.clock import Clock
from handlers.results import source_note
from models import Airport, Flight
from repos.flights import AirportRepo
from services.airports import AirportDirectory
from services.flights import LIVE_LABEL, LOCAL_LABEL, FlightSearch, SourceNote
from services.providers.circuit import BreakerState, CircuitBreaker
from services.seats import SeatService
from tests.fakes.amadeus import (
    INVALID_CLIENT_BODY,
    TOKEN_PATH,
    FakeAmadeus,
    build_location,
    build_offer,
    build_seatmap,
    default_locations,
    default_offers,
)
from tests.flows import travel_day
from tests.services.amadeus_support import SEARCH_PATH, TIMEOUT, chain, fake, searches

__all__ = ["fake"]  # the fixture, imported for pytest


# ---- the chain: live first, labelled fallback --------------------------------------------------------
async def test_healthy_amadeus_gives_labelled_live_flights(inventory_db: Any, fake: FakeAmadeus) -> None:
    clock = Clock()
    day = travel_day(clock)
    fake.offers = default_offers(day)
    result = await chain(fake, clock).search(["LHR"], ["JFK"], day, 1)
    assert result.source_label == LIVE_LABEL == "live fares" and result.notes == []
    ba, vs = (o.flight for o in result.options)
    assert (ba.flight_number, vs.flight_number) == ("BA117", "VS3")
    assert (ba.source, ba.external_id, ba.offer and ba.offer["id"]) == ("amadeus", "1", "1")
    assert (ba.fares, ba.currency, ba.capacity) == ({"economy": 54670}, "EUR", {"economy": 9})
    assert ba.aircraft == "744"
    assert (ba.refundable, ba.checked_bags, vs.refundable, vs.checked_bags) == (True, 1, False, 0)
    assert ba.departs_at.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%d %H:%M") == f"{day} 08:25"
    assert ba.arrives_at.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "11:30"
    query = next(r for r in fake.requests if r.path == SEARCH_PATH).query
    assert (query["originLocationCode"], query["adults"], query["nonStop"]) == ("LHR", "1", "true")

    again = await chain(fake, clock).search(["LHR"], ["JFK"], day, 1)  # a new process: upserts, no duplicates
    assert [o.flight.id for o in again.options] == [ba.id, vs.id]
    assert await Flight.find({"source": "amadeus", "departure_date": day.isoformat()}).count() == 2


async def test_any_airport_of_a_city_asks_with_the_city_code(inventory_db: Any, fake: FakeAmadeus) -> None:
    clock = Clock()
    day = travel_day(clock)
    fake.offers = default_offers(day)
    result = await chain(fake, clock).search(["LHR", "LGW", "STN", "LCY"], ["JFK", "EWR", "LGA"], day, 1)
    assert result.source_label == LIVE_LABEL
    query = next(r for r in fake.requests if r.path == SEARCH_PATH).query
    assert (query["originLocationCode"], query["destinationLocationCode"]) == ("LON", "NYC")


async def test_schedule_change_and_local_number_clash(inventory_db: Any, fake: FakeAmadeus) -> None:
    clock = Clock()
    day = travel_day(clock)
    local = await Flight.find_one({"origin": "LHR", "destination": "JFK", "departure_date": day.isoformat(),
                                   "source": "local"})
    assert local is not None
    carrier, number = local.flight_number[:2], local.flight_number[2:]
    fake.offers = [*default_offers(day)[:1],
                   build_offer("9", "LHR", "JFK", f"{day}T09:00:00", f"{day}T12:00:00", carrier=carrier,
                               number=number)]
    result = await chain(fake, clock).search(["LHR"], ["JFK"], day, 1)
    assert [o.flight.flight_number for o in result.options] == ["BA117"]  # never overwrites our own flight
    assert (await Flight.get(local.id)) == local

    fake.offers = [build_offer("1", "LHR", "JFK", f"{day}T10:05:00", f"{day}T13:10:00", refundable=True)]
    moved = (await chain(fake, clock).search(["LHR"], ["JFK"], day, 1)).options[0].flight
    assert moved.id == result.options[0].flight.id
    assert moved.departs_at.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M") == "10:05"
    raw = await Flight.get_pymongo_collection().find_one({"_id": moved.id})
    # A datetime, not the string a `$set` of a datetime leaves on nx-27017.
    assert raw is not None and isinstance(raw["departs_at"], datetime)


FAILURES: dict[str, Callable[[FakeAmadeus], None]] = {
    "HTTP 500": lambda f: f.fail_next(500),
    "HTTP 401": lambda f: f.fail_next(401, times=2),  # refused again after a fresh token
    "bad credentials": lambda f: f.fail_next(401, INVALID_CLIENT_BODY, path=TOKEN_PATH),
    "HTTP 429": lambda f: f.fail_next(429),
    "slow": lambda f: setattr(f, "delay", TIMEOUT + 2),
    "malformed JSON": lambda f: f.malformed_next(),
}


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_failures_fall_back_to_labelled_local_results(inventory_db: Any, fake: FakeAmadeus,
                                                            failure: str) -> None:
    clock = Clock()
    day = travel_day(clock)
    fake.offers = default_offers(day)
    FAILURES[failure](fake)
    started = time.monotonic()
    result = await chain(fake, clock).search(["LHR"], ["JFK"], day, 1)
    elapsed = time.monotonic() - started
    assert elapsed <= TIMEOUT + 1, f"{failure}: fallback took {elapsed:.2f} s"
    assert result.source_label == LOCAL_LABEL
    assert result.options and all(o.flight.source == "local" for o in result.options)
    assert len(result.notes) == 1 and result.notes[0].source == LIVE_LABEL and result.notes[0].reason
    shown = source_note(result.notes[0])  # as the traveller reads it
    assert shown.startswith("Live fares unavailable (") and shown.endswith("; showing FlyO inventory.")


async def test_empty_live_answer_falls_back_and_says_so(inventory_db: Any, fake: FakeAmadeus) -> None:
    clock = Clock()
    fake.offers = []
    result = await chain(fake, clock).search(["LHR"], ["JFK"], travel_day(clock), 1)
    assert result.source_label == LOCAL_LABEL and result.options
    assert result.notes == [SourceNote(LIVE_LABEL, None)]
    assert source_note(result.notes[0]) == "No live fares for this route and day; showing FlyO inventory."


async def test_expired_token_is_renewed_once(inventory_db: Any, fake: FakeAmadeus) -> None:
    clock = Clock()
    day = travel_day(clock)
    fake.offers = default_offers(day)
    search = chain(fake, clock)
    assert (await search.search(["LHR"], ["JFK"], day, 1)).source_label == LIVE_LABEL
    fake.revoke_tokens()
    assert (await search.search(["LHR"], ["JFK"], day, 2)).source_label == LIVE_LABEL
    assert fake.token_requests == 2


async def test_circuit_opens_after_three_failures_and_closes_after_cooldown(inventory_db: Any,
                                                                            fake: FakeAmadeus) -> None:
    clock = Clock()
    day = travel_day(clock)
    fake.offers = default_offers(day)
    search = chain(fake, clock, fallback_ttl=timedelta(0), breaker_cooldown=timedelta(seconds=60))
    breaker = search.breakers["amadeus"]

    def state() -> BreakerState:  # a call, so mypy doesn't keep the state narrowed between asserts
        return breaker.state

    fake.fail_next(500, times=3)
    for _ in range(3):
        assert (await search.search(["LHR"], ["JFK"], day, 1)).source_label == LOCAL_LABEL
    assert state() is BreakerState.OPEN

    calls = searches(fake)
    started = time.monotonic()
    skipped = await search.search(["LHR"], ["JFK"], day, 1)
    assert time.monotonic() - started < TIMEOUT / 2  # no waiting on a provider known to be down
    assert searches(fake) == calls
    assert skipped.source_label == LOCAL_LABEL
    assert [source_note(note) for note in skipped.notes] == [
        "Live fares unavailable (paused after repeated errors, retrying in 60 s); showing FlyO inventory."]

    clock.advance(timedelta(seconds=61))  # half-open: one trial; it fails, so the breaker opens again
    fake.fail_next(500)
    assert (await search.search(["LHR"], ["JFK"], day, 1)).source_label == LOCAL_LABEL
    assert state() is BreakerState.OPEN and searches(fake) == calls + 1

    clock.advance(timedelta(seconds=61))  # the next trial succeeds and closes it
    assert (await search.search(["LHR"], ["JFK"], day, 1)).source_label == LIVE_LABEL
    assert state() is BreakerState.CLOSED and breaker.failures == 0


def test_breaker_counts_consecutive_failures_only() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock, threshold=2, cooldown=timedelta(seconds=30))
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.allow() and breaker.state is BreakerState.CLOSED
    breaker.failure()
    assert not breaker.allow() and breaker.retry_in_seconds() == 30
    clock.advance(timedelta(seconds=30))
    assert breaker.allow() and not breaker.allow()  # half-open lets exactly one trial through
    breaker.release()  # the trial was cancelled: no verdict, the next caller may try
    assert breaker.allow()
    breaker.success()
    assert breaker.state is BreakerState.CLOSED


async def test_search_results_are_cached_per_route_date_and_passengers(inventory_db: Any,
                                                                         fake: FakeAmadeus) -> None:
    clock = Clock()
    day = travel_day(clock)
    fake.offers = default_offers(day)
    search = chain(fake, clock)
    first = await search.search(["LHR"], ["JFK"], day, 1)
    await search.search(["LHR"], ["JFK"], day, 1)  # paging, sorting, going back
    assert searches(fake) == 1
    again = await search.search(["LHR"], ["JFK"], day, 1)
    assert again.source_label == LIVE_LABEL and [o.flight.id for o in again.options] == [
        o.flight.id for o in first.options]
    await search.search(["LHR"], ["JFK"], day, 2)
    assert searches(fake) == 2
    clock.advance(timedelta(minutes=6))
    await search.search(["LHR"], ["JFK"], day, 1)
    assert searches(fake) == 3


# ---- price check, seat maps, airports ----------------------------------------------------------------
async def test_reprice_reports_old_and_new_fare(inventory_db: Any, fake: FakeAmadeus) -> None:
    clock = Clock()
    day = travel_day(clock)
    fake.offers = default_offers(day)
    search = chain(fake, clock)
    flight = (await search.search(["LHR"], ["JFK"], day, 2)).options[0].flight
    fake.pricing_override = "612.30"
    check = await search.reprice(flight, 2, "economy", seen=54670)
    assert (check.old, check.new, check.currency, check.changed) == (54670, 61230, "EUR", True)
    assert (check.old_total, check.new_total) == (109340, 122460)
    stored = await Flight.get(flight.id)
    assert stored is not None and stored.fares == {"economy": 61230}
    assert stored.offer is not None and stored.offer["price"]["grandTotal"] == "612.30"
    assert not (await search.reprice(stored, 2, "economy", seen=61230)).changed  # accepted: no new question

    fake.pricing_override = {"currency": "USD"}  # same amount, another currency: a change too
    moved = await chain(fake, clock).reprice(stored, 1, "economy", seen=61230, seen_currency="EUR")
    assert moved.changed and (moved.new, moved.currency) == (61230, "USD")

    fake.fail_next(500, path="/v1/shopping/flight-offers/pricing")
    unconfirmed = await chain(fake, clock).reprice(stored, 1, "economy", seen=61230)
    assert not unconfirmed.changed and not unconfirmed.confirmed
    assert "server error, HTTP 500" in unconfirmed.note


async def test_local_flights_reprice_from_the_inventory(inventory_db: Any) -> None:
    clock = Clock()
    search = FlightSearch(SeatService(clock, 15))
    flight = (await search.search(["LHR"], ["JFK"], travel_day(clock), 1)).options[0].flight
    check = await search.reprice(flight, 1, "economy", seen=flight.fares["economy"])
    assert check.confirmed and not check.changed and check.new == flight.fares["economy"]


async def test_seat_map_display_gives_layout_and_taken_seats(inventory_db: Any, fake: FakeAmadeus) -> None:
    clock = Clock()
    day = travel_day(clock)
    fake.offers = default_offers(day)
    search = chain(fake, clock)
    flight = (await search.search(["LHR"], ["JFK"], day, 1)).options[0].flight
    assert flight.offer is not None
    fake.seatmaps = build_seatmap(flight.offer, rows=range(1, 31), occupied={"3A", "3B"}, blocked={"5C"})
    layout, taken = await search.layout(flight, "economy")
    assert layout is not None and (layout.first_row, layout.last_row, layout.columns) == (1, 30, "ABC DEF")
    assert taken == {"3A", "3B", "5C"}
    maps = sum(1 for r in fake.requests if r.path == "/v1/shopping/seatmaps")
    await search.layout(flight, "economy")  # the next tap on the same map
    assert sum(1 for r in fake.requests if r.path == "/v1/shopping/seatmaps") == maps


async def test_seat_map_failure_uses_the_aircraft_layout(inventory_db: Any, fake: FakeAmadeus) -> None:
    clock = Clock()
    day = travel_day(clock)
    fake.offers = default_offers(day)
    search = chain(fake, clock)
    ba, vs = (o.flight for o in (await search.search(["LHR"], ["JFK"], day, 1)).options)
    fake.fail_next(500, path="/v1/shopping/seatmaps", times=2)
    layout, taken = await search.layout(vs, "economy")  # a 787-9, which FlyO flies itself
    assert layout is not None and (layout.first_row, layout.columns) == (10, "ABC DEF HJK") and taken == set()
    layout, taken = await search.layout(ba, "economy")  # a 747-400: FlyO has no layout, a generic one
    assert layout is not None and layout.columns == "ABC DEF" and taken == set()


async def test_unknown_airports_are_learned_from_airport_search(inventory_db: Any, fake: FakeAmadeus) -> None:
    clock = Clock()
    fake.locations = [*default_locations(),
                      build_location("NUE", "Nuremberg Airport", "Nuremberg", "DE"),
                      build_location("YXU", "London International", "London", "CA")]
    directory = AirportDirectory(await AirportRepo().all())
    assert not directory.resolve("Nuremberg").found
    try:
        learned = await chain(fake, clock).learn_airports(directory, "Nuremberg")
        assert learned is not None
        [nue] = learned.resolve("Nuremberg").airports
        assert (nue.iata, nue.city, nue.tz) == ("NUE", "Nuremberg", "Europe/Berlin")
        saved = await Airport.find_one({"iata": "NUE"})
        assert saved is not None and saved.tz == "Europe/Berlin"
        assert await chain(fake, clock).learn_airports(learned, "London") is None  # not London, Ontario
        assert await FlightSearch(SeatService(clock, 15)).learn_airports(directory, "Nuremberg") is None
    finally:
        await Airport.get_pymongo_collection().delete_many({"iata": {"$in": ["NUE", "YXU"]}})
