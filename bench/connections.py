"""Scenario — connections: `ConnectionSearch.find` on the 100k-flight inventory, against the direct-only search.

The inventory is the search scenario's (bench/search.py: the product seed scaled to ≥ 100k flights over
120 days, cached under bench/.work/). Half the searches are network routes (a direct flight exists: the
connections must beat it to be shown), half random airport pairs (mostly no direct flight: one-stop, and
two-stop where no one-stop exists). The baseline is `FlightSearch.search` — the direct-only search the bot
runs today — on the same pairs, days and passenger counts, in the same run.

Correctness, per option: legs chain airport to airport from an origin to a destination, each layover at
least the hub's minimum connecting time and at most the maximum layover (no overnight: not asked), one cabin
with enough seats left on every leg, one through fare in the first flight's currency (each leg's fare, converted
with `convert_fare` where it is sold in another, summed); direct flights first; a connection beside a direct
flight is faster or cheaper than the best direct one.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench import common, search
from bot.runtime import build_services
from core.config import Settings
from models import Flight
from services.connections import ConnectionResult, ConnectionSearch, Itinerary
from services.inventory.fares import convert_fare
from services.inventory.network import AIRPORT_CODES, network_routes
from services.through_fares import whole_units

NAME = "connections"
GOAL_P99_MS = 30.0


@dataclass(frozen=True)
class Query:
    origin: str
    destination: str
    day: date
    passengers: int
    cabin: str


@dataclass
class Rep:
    connections: common.Latency
    direct: common.Latency
    with_options: int
    with_connections: int
    two_stop: int
    queries: float  # route-and-day reads per search, mean
    connecting: common.Latency  # the searches that found a connection only
    options_checked: int
    queries_run: int


def make_queries(first: date, days: int, n: int, rng: random.Random) -> list[Query]:
    routes = network_routes()
    queries = []
    for i in range(n):
        if i % 2 == 0:
            route = rng.choice(routes)
            origin, destination = route.origin, route.destination
        else:
            origin, destination = rng.sample(AIRPORT_CODES, 2)
        day = first + timedelta(days=rng.randrange(days))
        cabin = "business" if rng.random() < 0.2 else "economy"
        queries.append(Query(origin, destination, day, rng.choice((1, 1, 1, 2, 2, 3, 4)), cabin))
    return queries


def problems(finder: ConnectionSearch, q: Query, found: ConnectionResult) -> list[str]:
    """Every broken rule of one search's options (empty: all good)."""
    bad: list[str] = []
    directs = [o for o in found.options if o.stops == 0]
    if found.options[:len(directs)] != directs:
        bad.append("a connection listed before a direct flight")
    for option in found.options:
        bad += _option_problems(finder, q, option)
        if option.stops and directs:
            fastest = min(o.total_minutes for o in directs)
            cheapest = min((o.fare_per_passenger for o in directs if o.currency == option.currency), default=-1)
            if option.total_minutes >= fastest and option.fare_per_passenger >= cheapest:
                bad.append("a connection neither faster nor cheaper than the direct flights")
    return bad


def _option_problems(finder: ConnectionSearch, q: Query, option: Itinerary) -> list[str]:
    legs = [leg.flight for leg in option.legs]
    bad = []
    if legs[0].origin != q.origin or legs[-1].destination != q.destination:
        bad.append("does not fly from the origin to the destination")
    if legs[0].departure_date != q.day.isoformat():
        bad.append("first leg on another day")
    converted = [(f.fares[q.cabin] if f.currency == legs[0].currency else whole_units(
        convert_fare(f.fares[q.cabin], f.currency, legs[0].currency) or -1)) if q.cabin in f.fares else None
                 for f in legs]
    if (option.currency != legs[0].currency or option.leg_fares != converted
            or option.fare_per_passenger != sum(option.leg_fares)):
        bad.append("price not the sum of the legs' fares in the first flight's currency")
    if option.cabin != q.cabin or any(leg.seats_left.get(q.cabin, 0) < q.passengers for leg in option.legs):
        bad.append("a leg without enough seats in the cabin")
    for (inbound, outbound), layover in zip(itertools.pairwise(legs), option.layovers, strict=True):
        gap = outbound.departs_at - inbound.arrives_at
        if inbound.destination != outbound.origin or layover.airport != inbound.destination:
            bad.append("legs do not chain airport to airport")
        if gap < timedelta(minutes=finder.mct.at(layover.airport)):
            bad.append(f"layover under the MCT at {layover.airport}")
        if gap > finder.max_layover or layover.overnight:
            bad.append("layover too long or overnight")
    return bad


async def measure(finder: ConnectionSearch, queries: list[Query], result: common.ScenarioResult | None) -> Rep:
    """Every query through ConnectionSearch.find, then through FlightSearch.search (the baseline)."""
    times: list[float] = []
    baseline: list[float] = []
    outcomes: list[ConnectionResult] = []
    for q in queries:
        started = time.perf_counter()
        outcomes.append(await finder.find([q.origin], [q.destination], q.day, q.passengers, q.cabin))
        times.append(time.perf_counter() - started)
    for q in queries:
        started = time.perf_counter()
        await finder.flights.search([q.origin], [q.destination], q.day, q.passengers)
        baseline.append(time.perf_counter() - started)
    broken = [f"{q.origin}-{q.destination} {q.day}: {p}" for q, found in zip(queries, outcomes, strict=True)
              for p in problems(finder, q, found)]
    checked = sum(len(o.options) for o in outcomes)
    if result is not None:
        result.check("connections valid", not broken,
                     f"{checked} options checked" if not broken else f"{len(broken)} broken, e.g. {broken[0]}")
    return Rep(common.Latency.of_seconds(times), common.Latency.of_seconds(baseline),
               with_options=sum(1 for o in outcomes if o.options),
               with_connections=sum(1 for o in outcomes if any(i.stops for i in o.options)),
               two_stop=sum(1 for o in outcomes if any(i.stops == 2 for i in o.options)),
               queries=sum(o.queries for o in outcomes) / max(len(outcomes), 1),
               connecting=common.Latency.of_seconds([t for t, o in zip(times, outcomes, strict=True)
                                                     if any(i.stops for i in o.options)]),
               options_checked=checked, queries_run=len(queries))


async def run(config: common.BenchConfig) -> common.ScenarioResult:
    result = common.ScenarioResult(NAME)
    days = search.DAYS if not config.quick else 7
    scale = search.scale_for(search.MIN_FLIGHTS, days) if not config.quick else 1.0
    n = config.size(400, 60)
    rng = random.Random(2028)
    reps: list[Rep] = []
    with common.scratch_dir(config, NAME) as scratch:
        inventory: Any
        if config.quick:
            inventory = search._quick_inventory(config, scratch, days, result)
        else:
            inventory = search.seeded_inventory(config, days, scale, result)
        async with inventory as (database, _data_dir):
            settings = Settings(TELEGRAM_BOT_TOKEN="123456:BENCH", DATA_DIR=scratch)
            services = await build_services(settings, database)
            finder = ConnectionSearch(services.flights)
            first = (await Flight.find({"source": "local"}).sort("departure_date").limit(1).to_list())[0]
            window_start = date.fromisoformat(first.departure_date)
            await measure(finder, make_queries(window_start, days, max(20, n // 4), rng), None)  # warm-up
            for rep in range(config.reps):
                # A fresh search per repetition: its shared timetable reads (services.connections) start cold,
                # and warm only as this repetition's own searches read routes, as in a process under load.
                finder = ConnectionSearch(services.flights)
                outcome = await measure(finder, make_queries(window_start, days, n, rng), result)
                reps.append(outcome)
                common.progress(f"{NAME}: rep {rep + 1}: ConnectionSearch p99 {outcome.connections.p99:.1f} ms, "
                                f"FlightSearch p99 {outcome.direct.p99:.1f} ms")
    _rows(result, n, reps)
    return result


def _rows(result: common.ScenarioResult, n: int, reps: list[Rep]) -> None:
    c99, c50 = (common.summarise(reps, lambda r: r.connections.p99),
                common.summarise(reps, lambda r: r.connections.p50))
    d99, d50 = common.summarise(reps, lambda r: r.direct.p99), common.summarise(reps, lambda r: r.direct.p50)
    ratios = common.summarise(range(len(reps)),
                              lambda i: common.ratio(reps[i].connections.p99, reps[i].direct.p99))
    share = common.summarise(reps, lambda r: r.with_options / r.queries_run * 100)
    result.check("searches with options", share.median > 50, f"{share.median:.0f}% of searches found an itinerary")
    last = reps[-1]
    result.notes.append(
        f"per repetition (last): {last.with_options}/{last.queries_run} searches with an itinerary, "
        f"{last.with_connections} with connections ({last.two_stop} two-stop), "
        f"{last.queries:.1f} route-and-day reads per search on average (seat counts not included); "
        f"the searches that found a connection: p99 {common.fmt(last.connecting.p99)} ms "
        f"(p50 {common.fmt(last.connecting.p50)} ms).")
    result.rows.append(common.Row(
        NAME, f"ConnectionSearch.find p99 (p50), {n} random pairs per repetition", f"p99 < {GOAL_P99_MS:.0f} ms",
        f"{c99.show(' ms')} ({common.fmt(c50.median)} ms)",
        f"FlightSearch.search (direct only): {d99.show(' ms')} ({common.fmt(d50.median)} ms)",
        f"p99 ×{ratios.median:.1f}", result.correctness_text(), common.status_for(c99.median < GOAL_P99_MS),
    ))
