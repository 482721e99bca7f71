"""Scenario 4 — search: random route/date searches on a local inventory of ≥ 100k flights.

The service under test is `FlightSearch.search` exactly as `build_services` builds it (local inventory
+ seat availability), called directly, one search at a time. The same searches also go through
`LocalProvider.search` alone (the flight query without availability) — the baseline that shows where
the time goes. One in ten searches is city to city (all airports of a metro, e.g. London → New York).

The inventory is the product's seed (`seed_inventory`) scaled by `departures_scale` until the 120-day
window holds ≥ 100k flights. Seeding takes a while on the embedded server, so the seeded data directory
is cached under bench/.work/ keyed by days, scale and a hash of the seed and model sources (a schema
change reseeds); with MONGODB_URI the seeded database is kept under a name with the same key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import common
from bot.db import open_database
from bot.runtime import build_services
from core.clock import Clock
from core.config import Settings
from core.database import Database
from models import Flight
from services.context import Services
from services.inventory.network import departures, metros, network_routes
from services.inventory.seed import seed_inventory

NAME = "search"
GOAL_P99_MS = 10.0
DAYS = 120
MIN_FLIGHTS = 100_000
METRO_SHARE = 0.1


@dataclass(frozen=True)
class Query:
    origins: list[str]
    destinations: list[str]
    day: date
    passengers: int


@dataclass
class Rep:
    service: common.Latency
    provider: common.Latency
    with_results: int
    queries: int


def scale_for(min_flights: int, days: int) -> float:
    """The smallest departures_scale (in steps of 0.1) whose window holds at least `min_flights`."""
    routes = network_routes()
    scale = 1.0
    while days * sum(len(departures(r, scale)) for r in routes) < min_flights:
        scale = round(scale + 0.1, 1)
    return scale


def _inventory_key(days: int, scale: float) -> str:
    """Changes whenever the seed's output could: its code, the models, or the database server's version."""
    digest = hashlib.sha1()
    root = common.REPO_ROOT
    sources = sorted((root / "services" / "inventory").glob("*.py")) + sorted((root / "models").glob("*.py"))
    for path in sources:
        digest.update(path.read_bytes())
    with contextlib.suppress(metadata.PackageNotFoundError):
        digest.update(metadata.version("nx-27017").encode())
    return f"d{days}-s{scale:g}-{digest.hexdigest()[:10]}".replace(".", "_")


@contextlib.asynccontextmanager
async def seeded_inventory(config: common.BenchConfig, days: int, scale: float,
                           result: common.ScenarioResult) -> AsyncIterator[tuple[Database, Path]]:
    """Open (seeding if needed) the cached inventory; notes how big it is and what seeding cost."""
    key = _inventory_key(days, scale)
    data_dir = config.work_dir / f"search-{key}"
    name = f"flyo_bench_search_{key}"
    if not config.mongo_uri:
        for stale in config.work_dir.glob("search-*"):  # an older seed or schema: gigabytes we no longer need
            if stale != data_dir and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    meta_file = data_dir / "seed.json"
    database = await open_database(config.mongo_uri, name, data_dir)
    try:
        flights = await Flight.get_pymongo_collection().count_documents({"source": "local"})
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        if flights < meta.get("flights", 1) or not meta:
            common.progress(f"{NAME}: seeding {days} days at departures_scale {scale} (cached for later runs)")
            started = time.perf_counter()
            report = await seed_inventory(Clock(), days=days, departures_scale=scale)
            flights = await Flight.get_pymongo_collection().count_documents({"source": "local"})
            meta = {"flights": flights, "seconds": round(time.perf_counter() - started, 1),
                    "seeded_on": Clock().now().date().isoformat(), "routes": report.routes}
            meta_file.write_text(json.dumps(meta))
            how = f"seeded in this run in {meta['seconds']} s"
        else:
            how = f"cached; seeding took {meta['seconds']} s on {meta['seeded_on']}"
        result.notes.append(f"inventory: {flights:,} flights ({days} days × departures_scale {scale}), {how} "
                            f"({len(network_routes())} routes).")
        yield database, data_dir
    finally:
        await database.close()


def make_queries(first: date, days: int, n: int, rng: random.Random) -> list[Query]:
    routes = network_routes()
    metro_of = metros()
    members: dict[str, list[str]] = {}
    for code, metro in metro_of.items():
        members.setdefault(metro, []).append(code)
    queries = []
    for _ in range(n):
        route = rng.choice(routes)
        origins, destinations = [route.origin], [route.destination]
        if rng.random() < METRO_SHARE:
            origins = sorted(members.get(metro_of.get(route.origin, ""), origins))
            destinations = sorted(members.get(metro_of.get(route.destination, ""), destinations))
        day = first + timedelta(days=rng.randrange(days))
        queries.append(Query(origins, destinations, day, rng.choice((1, 1, 1, 2, 2, 3, 4))))
    return queries


async def measure(services: Services, queries: list[Query], result: common.ScenarioResult | None) -> Rep:
    """Every query through FlightSearch.search, then through LocalProvider.search alone."""
    flights = services.flights
    service_times: list[float] = []
    provider_times: list[float] = []
    found: list[set[Any]] = []
    for q in queries:
        started = time.perf_counter()
        outcome = await flights.search(q.origins, q.destinations, q.day, q.passengers)
        service_times.append(time.perf_counter() - started)
        found.append({o.flight.id for o in outcome.options})
    subset_ok = 0
    for q, shown in zip(queries, found, strict=True):
        started = time.perf_counter()
        local = await flights.local.search(q.origins, q.destinations, q.day, q.passengers)
        provider_times.append(time.perf_counter() - started)
        subset_ok += shown <= {f.id for f in local}
    if result is not None:
        result.check("results consistent", subset_ok == len(queries),
                     f"{subset_ok}/{len(queries)} searches show only flights of the route and day")
    return Rep(common.Latency.of_seconds(service_times), common.Latency.of_seconds(provider_times),
               sum(1 for f in found if f), len(queries))


async def run(config: common.BenchConfig) -> common.ScenarioResult:
    result = common.ScenarioResult(NAME)
    days = DAYS if not config.quick else 7
    scale = scale_for(MIN_FLIGHTS, days) if not config.quick else 1.0
    n = config.size(400, 60)
    rng = random.Random(2027)
    reps: list[Rep] = []
    with common.scratch_dir(config, NAME) as scratch:
        if config.quick:  # a smoke run: a small throw-away inventory instead of the cached 100k one
            inventory: Any = _quick_inventory(config, scratch, days, result)
        else:
            inventory = seeded_inventory(config, days, scale, result)
        async with inventory as (database, data_dir):
            flights = await Flight.get_pymongo_collection().count_documents({"source": "local"})
            if not config.quick:
                result.check("inventory size", flights >= MIN_FLIGHTS, f"{flights:,} flights (≥ {MIN_FLIGHTS:,})")
            settings = Settings(TELEGRAM_BOT_TOKEN="123456:BENCH", DATA_DIR=scratch)
            services = await build_services(settings, database)
            first = (await Flight.find({"source": "local"}).sort("departure_date").limit(1).to_list())[0]
            window_start = date.fromisoformat(first.departure_date)
            await measure(services, make_queries(window_start, days, max(20, n // 4), rng), None)  # warm-up
            for rep in range(config.reps):
                outcome = await measure(services, make_queries(window_start, days, n, rng), result)
                reps.append(outcome)
                common.progress(f"{NAME}: rep {rep + 1}: FlightSearch p99 {outcome.service.p99:.1f} ms, "
                         f"LocalProvider p99 {outcome.provider.p99:.1f} ms")
            del data_dir
    _rows(result, n, reps)
    return result


@contextlib.asynccontextmanager
async def _quick_inventory(config: common.BenchConfig, scratch: Path, days: int,
                           result: common.ScenarioResult) -> AsyncIterator[tuple[Database, Path]]:
    database = await open_database(config.mongo_uri, "flyo_bench_search_quick", scratch)
    try:
        report = await seed_inventory(Clock(), days=days)
        result.notes.append(f"quick run: {report.flights_total:,} flights ({days} days), not the 100k inventory.")
        yield database, scratch
    finally:
        if config.mongo_uri:
            await database.client.drop_database("flyo_bench_search_quick")
        await database.close()


def _rows(result: common.ScenarioResult, n: int, reps: list[Rep]) -> None:
    s99, s50 = common.summarise(reps, lambda r: r.service.p99), common.summarise(reps, lambda r: r.service.p50)
    p99, p50 = common.summarise(reps, lambda r: r.provider.p99), common.summarise(reps, lambda r: r.provider.p50)
    ratios = common.summarise(range(len(reps)), lambda i: common.ratio(reps[i].service.p99, reps[i].provider.p99))
    hit = common.summarise(reps, lambda r: r.with_results / r.queries * 100)
    result.check("searches with results", hit.median > 50, f"{hit.median:.0f}% of searches found flights")
    result.rows.append(common.Row(
        NAME, f"FlightSearch.search p99 (p50), {n} random searches per repetition", f"p99 < {GOAL_P99_MS:.0f} ms",
        f"{s99.show(' ms')} ({common.fmt(s50.median)} ms)", f"LocalProvider.search alone: {p99.show(' ms')} "
        f"({common.fmt(p50.median)} ms)", f"p99 ×{ratios.median:.1f}", result.correctness_text(),
        common.status_for(s99.median < GOAL_P99_MS),
    ))
