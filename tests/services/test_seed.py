"""The local inventory: a realistic network, seeded deterministically, idempotently and across DST."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import bson
import pytest

from core.clock import Clock
from core.database import Database
from models import AircraftType, Airport, Flight
from services.inventory.fares import currency_for_country, nice_price, quote_fare
from services.inventory.network import (
    aircraft_types,
    departures,
    find_route,
    max_daily_departures,
    network_airports,
    network_routes,
)
from services.inventory.seed import inventory_is_empty, seed_inventory

# Europe moves to summer time on Sunday 2027-03-28; a window from the 26th covers days on both sides.
START = datetime(2027, 3, 26, 10, 0, tzinfo=UTC)
DAYS = 4


def clock_at(moment: datetime) -> Clock:
    clock = Clock()
    clock.advance(moment - clock.now())
    return clock


async def stored(model: Any, *, drop_id: bool = True) -> list[dict[str, Any]]:
    projection = {"_id": 0} if drop_id else None
    docs: list[dict[str, Any]] = await model.get_pymongo_collection().find({}, projection).to_list(None)
    return sorted(docs, key=lambda d: (d.get("flight_number", ""), d.get("departure_date", ""), str(d)))


async def wipe() -> None:
    for model in (Flight, Airport, AircraftType):
        await model.get_pymongo_collection().delete_many({})  # type: ignore[attr-defined]


# ---- the network (pure) ------------------------------------------------------------------------
def test_airports_are_real_with_zones_cities_and_metros() -> None:
    airports = {a.iata: a for a in network_airports()}
    assert len(airports) >= 40
    for airport in airports.values():
        ZoneInfo(airport.tz)  # a valid IANA zone
        assert airport.city and len(airport.country) == 2 and airport.icao
        assert (airport.lat, airport.lon) != (0.0, 0.0)
    for code in ("LHR", "LGW", "STN", "LCY"):
        london = airports[code]
        assert (london.city, london.metro, london.tz) == ("London", "LON", "Europe/London")
    assert {airports[c].metro for c in ("JFK", "EWR", "LGA")} == {"NYC"}
    assert airports["EWR"].city == "New York" and airports["IST"].city == "Istanbul"
    assert {airports[c].metro for c in ("CDG", "ORY")} == {"PAR"} and airports["AMS"].metro == ""
    assert airports["SYD"].tz == "Australia/Sydney"


def test_aircraft_have_the_three_kinds_of_cabin_layout() -> None:
    fleet = {t.code: t for t in aircraft_types()}
    a320, b789, e190 = fleet["320"], fleet["789"], fleet["E90"]
    assert [(c.cabin, c.columns) for c in a320.cabins] == [("business", "AC DF"), ("economy", "ABC DEF")]
    assert a320.cabins[0].rows() == [1, 2, 3] and 13 not in a320.cabins[1].rows()
    assert [(c.cabin, c.columns) for c in b789.cabins] == [
        ("business", "AC DG HK"), ("economy", "ABC DEF HJK")]
    assert {c.columns for c in e190.cabins} == {"AC DF"}
    assert a320.capacity() == {"business": 12, "economy": 156}
    assert b789.cabin_of_seat("7K") == "business" and b789.cabin_of_seat("10J") == "economy"
    for aircraft in fleet.values():
        assert "I" not in "".join(c.columns for c in aircraft.cabins)


def test_routes_are_realistic_and_flight_numbers_unique() -> None:
    routes = network_routes()
    assert len(routes) >= 150
    keys = {(r.origin, r.destination) for r in routes}
    assert all((d, o) in keys for o, d in keys)  # every route is flown both ways
    for route in routes:
        expected = "E90" if route.distance_km < 800 else "789|77W" if route.distance_km >= 5000 else "320|321"
        assert re.fullmatch(expected, route.aircraft), route
        hours = route.duration_minutes / 60
        assert route.distance_km / 900 < hours < route.distance_km / 650 + 1, route
    assert next(r for r in routes if r.key == "JFK-LHR").duration_minutes < next(
        r for r in routes if r.key == "LHR-JFK").duration_minutes  # the jet stream helps eastbound
    for scale in (1.0, 4.0, max_daily_departures() / 4):
        slots = [(r, s) for r in routes for s in departures(r, scale)]
        numbers = [s.flight_number for _, s in slots]
        assert len(numbers) == len(set(numbers)) and all(re.fullmatch(r"FO\d{1,4}", n) for n in numbers)
        for route, slot in slots:
            assert time(5, 0) <= slot.local_time <= time(23, 59) and slot.local_time.minute % 5 == 0, route
    # flight numbers are stable: scaling up keeps the base slots
    lhr_jfk = find_route("LHR", "JFK")
    assert lhr_jfk is not None and find_route("LHR", "XXX") is None
    assert departures(lhr_jfk, 3.0)[: len(lhr_jfk.base_times)] == departures(lhr_jfk)
    with pytest.raises(ValueError, match="departures_scale"):
        departures(lhr_jfk, 100.0)


def test_quote_fare_depends_on_cabin_date_and_load() -> None:
    today = date(2027, 3, 1)
    tuesday, friday = date(2027, 4, 13), date(2027, 4, 16)
    economy = quote_fare(20000, "economy", tuesday, today, 0.5)
    assert economy % 100 == 0 and economy // 100 % 10 == 9  # whole units ending in 9
    assert quote_fare(20000, "economy", tuesday, tuesday, 0.5) > economy  # booking late costs more
    assert quote_fare(20000, "economy", friday, today, 0.5) > economy
    assert quote_fare(20000, "economy", tuesday, today, 0.95) > economy  # a fuller flight costs more
    assert quote_fare(20000, "economy", date(2027, 8, 10), today, 0.5) > economy  # summer
    assert 3 * economy < quote_fare(80000, "business", tuesday, today, 0.5) < 5 * economy
    assert [nice_price(x) for x in (7240, 14830, 123400, 4380000)] == [6900, 14900, 119900, 4399900]
    assert [currency_for_country(c) for c in ("GB", "US", "CH", "FR", "JP", "SE")] == [
        "GBP", "USD", "CHF", "EUR", "USD", "SEK"]


# ---- seeding -----------------------------------------------------------------------------------
async def test_seed_builds_a_daily_schedule_in_local_time(db: Database) -> None:
    assert await inventory_is_empty()
    report = await seed_inventory(clock_at(START), days=DAYS)
    assert not await inventory_is_empty()
    assert (report.airports, report.aircraft) == (len(network_airports()), len(aircraft_types()))
    assert report.routes >= 150 and report.flights_added == report.flights_total > 0
    airports = {a.iata: a for a in await Airport.find_all().to_list()}
    assert len(airports) >= 40 and all(a.tz for a in airports.values())
    fleet = {t.code: t for t in await AircraftType.find_all().to_list()}
    assert set(fleet) >= {"320", "789", "E90"}

    flights = await stored(Flight)
    assert len(flights) == report.flights_total
    assert set(flights[0]) == set(Flight.model_fields) - {"id", "revision_id"}  # hand-built = Beanie's shape
    assert await Flight.find_one(Flight.flight_number == flights[0]["flight_number"]) is not None
    dates_by_route: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in flights:
        origin: Airport = airports[f["origin"]]
        local = f["departs_at"].astimezone(ZoneInfo(origin.tz))
        assert local.date().isoformat() == f["departure_date"]
        assert time(5, 0) <= local.time() <= time(23, 59), f
        assert f["arrives_at"] > f["departs_at"]
        assert f["capacity"] == fleet[f["aircraft"]].capacity()
        assert f["currency"] == currency_for_country(origin.country)
        assert all(isinstance(v, int) and v > 0 for v in f["fares"].values())
        assert 2 * f["fares"]["economy"] < f["fares"]["business"] < 7 * f["fares"]["economy"], f
        dates_by_route[(f["origin"], f["destination"])].add(f["departure_date"])
    assert len(dates_by_route) == report.routes
    for (code, _), dates in dates_by_route.items():  # at least one flight on every day of the window
        first = START.astimezone(ZoneInfo(airports[code].tz)).date()
        assert dates == {(first + timedelta(days=i)).isoformat() for i in range(DAYS)}

    # fares move with the date: most flight numbers do not cost the same every day
    fares_by_number: dict[str, set[int]] = defaultdict(set)
    for f in flights:
        fares_by_number[f["flight_number"]].add(f["fares"]["economy"])
    assert sum(len(v) > 1 for v in fares_by_number.values()) > 0.5 * len(fares_by_number)


async def test_local_departure_time_holds_across_the_dst_change(db: Database) -> None:
    await seed_inventory(clock_at(START), days=DAYS)
    london = ZoneInfo("Europe/London")
    by_day: dict[str, dict[str, datetime]] = defaultdict(dict)
    for f in await Flight.get_pymongo_collection().find({"origin": "LHR"}).to_list(None):
        by_day[f["flight_number"]][f["departure_date"]] = f["departs_at"]
    assert by_day
    for number, days in by_day.items():
        before, after = days["2027-03-27"], days["2027-03-28"]
        assert before.astimezone(london).time() == after.astimezone(london).time(), number
        assert after - before == timedelta(hours=23), number  # same wall-clock time, an hour earlier in UTC


@pytest.mark.slow  # seeds twice (1 s)
async def test_second_run_changes_nothing_and_a_later_day_adds_only_that_day(db: Database) -> None:
    first = await seed_inventory(clock_at(START), days=DAYS)
    airports = await stored(Airport, drop_id=False)
    aircraft = await stored(AircraftType, drop_id=False)
    flights = await stored(Flight, drop_id=False)

    again = await seed_inventory(clock_at(START + timedelta(hours=1)), days=DAYS)
    assert again.flights_added == 0 and again.flights_total == first.flights_total
    assert await stored(Airport, drop_id=False) == airports
    assert await stored(AircraftType, drop_id=False) == aircraft
    assert await stored(Flight, drop_id=False) == flights

    later = await seed_inventory(clock_at(START + timedelta(days=1)), days=DAYS)
    per_day = sum(len(departures(r)) for r in network_routes())
    assert later.flights_added == per_day and later.flights_total == first.flights_total
    after = await stored(Flight, drop_id=False)
    assert len(after) == len(flights) + per_day
    kept = {(f["flight_number"], f["departure_date"]): f for f in after}
    assert all(kept[(f["flight_number"], f["departure_date"])] == f for f in flights)  # fares untouched


@pytest.mark.slow  # seeds twice (0.9 s)
async def test_same_seed_and_date_give_byte_identical_flights(db: Database) -> None:
    await seed_inventory(clock_at(START), days=2)
    first = await stored(Flight)
    await wipe()
    await seed_inventory(clock_at(START + timedelta(minutes=30)), days=2)
    assert [bson.encode(d) for d in await stored(Flight)] == [bson.encode(d) for d in first]

    await wipe()
    await seed_inventory(clock_at(START), days=2, seed="other")
    other = await stored(Flight)
    schedule = [(d["flight_number"], d["departs_at"], d["aircraft"]) for d in first]
    assert [(d["flight_number"], d["departs_at"], d["aircraft"]) for d in other] == schedule
    assert [d["fares"] for d in other] != [d["fares"] for d in first]  # other load factors


async def test_departures_scale_adds_slots_with_unique_numbers(db: Database) -> None:
    base = sum(len(departures(r)) for r in network_routes())
    report = await seed_inventory(clock_at(START), days=1, departures_scale=2.5)
    assert report.flights_added == report.flights_total > 2 * base
    with pytest.raises(ValueError):
        await seed_inventory(clock_at(START), days=0)
