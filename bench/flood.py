"""Scenario `flood` — what shared flood control costs an update (issue #21): `SharedFloodGate.verdict` (one
findAndModify on `flood_windows`) against, in the same run and at the same concurrency, the cheapest write an
update could make — a bare `update_one` `$inc` by user on a collection of the same size (state shared by replicas
has to be written on every update) — and, for scale, a bare `find_one` and this process's own window (`FloodGate`,
no round trip). 2,000 users send 5 updates each, 32 at a time (PTB runs 32 updates at once), each user below the
limit; then one user floods through three gates (three replicas) at once.

Goal: the shared verdict's p99 ÷ the bare write's p99 ≤ 1.5 — returning the window costs little over the write.

Correctness (fails the run): every update below the limit accepted; the flood lets exactly the limit through, with
exactly one notice, across the three gates.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from bench import common
from models.flood_window import FloodWindow
from repos.base import collection
from services.flood import FloodGate, SharedFloodGate, Verdict

NAME = "flood"
CONCURRENCY = 32
LIMIT, WINDOW = 20, 10.0
GOAL_P99_RATIO = 1.5


async def timed_all(calls: list[Callable[[], Awaitable[Any]]]) -> tuple[list[float], list[Any], float]:
    """Run `calls` CONCURRENCY at a time: (each call's seconds, results, updates per second)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    seconds: list[float] = []

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            started = time.perf_counter()
            result = await call()
            seconds.append(time.perf_counter() - started)
            return result

    started = time.perf_counter()
    results = await asyncio.gather(*(one(c) for c in calls))
    return seconds, list(results), len(calls) / (time.perf_counter() - started)


async def run(config: common.BenchConfig) -> common.ScenarioResult:
    result = common.ScenarioResult(NAME)
    users, per_user = config.size(2000, 200), 5
    rng = random.Random(21)
    shared_runs: list[tuple[common.Latency, float]] = []
    floor_runs: list[tuple[common.Latency, float]] = []
    read_rates: list[float] = []
    local_runs: list[float] = []
    with common.scratch_dir(config, NAME) as data_dir:
        async with common.bench_database(config, data_dir) as database:
            floor = database.db["bench_flood_floor"]
            await floor.create_index("user_id", unique=True)
            await floor.insert_many([{"user_id": u, "times": [0.0] * per_user} for u in range(users)])
            common.progress(f"{NAME}: {users} users × {per_user} updates, {CONCURRENCY} at a time, "
                            f"{config.reps} repetitions ({config.database_label})")
            for rep in range(config.reps + 1):  # rep 0 warms up
                await collection(FloodWindow).delete_many({})
                order = [u for u in range(users) for _ in range(per_user)]
                rng.shuffle(order)
                shared = SharedFloodGate(LIMIT, WINDOW)
                s_seconds, verdicts, s_rate = await timed_all([partial(shared.verdict, u) for u in order])
                f_seconds, _done, f_rate = await timed_all([
                    partial(floor.update_one, {"user_id": u}, {"$inc": {"n": 1}}) for u in order])
                _r, _found, r_rate = await timed_all([partial(floor.find_one, {"user_id": u}) for u in order])
                local = FloodGate(LIMIT, WINDOW)
                started = time.perf_counter()
                for u in order:
                    local.check(u)
                local_us = (time.perf_counter() - started) / len(order) * 1e6
                result.check("below the limit", verdicts.count(Verdict.ACCEPT) == len(order),
                             f"{len(order)} updates below the limit all accepted")
                flood = [SharedFloodGate(LIMIT, WINDOW) for _ in range(3)]
                burst = await asyncio.gather(*(flood[i % 3].verdict(-1) for i in range(3 * LIMIT)))
                result.check("flood", burst.count(Verdict.ACCEPT) == LIMIT and burst.count(Verdict.WARN) == 1,
                             f"a flood over 3 replicas: {LIMIT} through, 1 notice")
                if rep:
                    shared_runs.append((common.Latency.of_seconds(s_seconds), s_rate))
                    floor_runs.append((common.Latency.of_seconds(f_seconds), f_rate))
                    local_runs.append(local_us)
                    read_rates.append(r_rate)
    _rows(result, shared_runs, floor_runs, read_rates, local_runs)
    return result


def _rows(result: common.ScenarioResult, shared: list[tuple[common.Latency, float]],
          floor: list[tuple[common.Latency, float]], reads: list[float], local: list[float]) -> None:
    p99 = common.summarise(shared, lambda r: r[0].p99)
    p50 = common.summarise(shared, lambda r: r[0].p50)
    f99 = common.summarise(floor, lambda r: r[0].p99)
    ratios = common.summarise(range(len(shared)), lambda i: common.ratio(shared[i][0].p99, floor[i][0].p99))
    correctness = result.correctness_text()
    result.rows.append(common.Row(
        NAME, f"shared flood verdict p99 (p50), {CONCURRENCY} at a time", f"≤ {GOAL_P99_RATIO} × bare write p99",
        f"{p99.show(' ms', 2)} ({common.fmt(p50.median, 2)} ms)", f"bare update_one p99 {f99.show(' ms', 2)}",
        f"{ratios.median:.2f} (±{ratios.spread_pct / 2:.0f}%)", correctness,
        common.status_for(ratios.median <= GOAL_P99_RATIO),
    ))
    rate, frate = common.summarise(shared, lambda r: r[1]), common.summarise(floor, lambda r: r[1])
    result.rows.append(common.Row(
        NAME, "shared flood verdicts per second", "report", rate.show("/s", 0),
        f"bare update_one {frate.show('/s', 0)}; bare find_one {common.summarise(reads, float).show('/s', 0)}; "
        f"this process's window {common.summarise(local, float).show(' µs', 2)} per update",
        f"{common.ratio(rate.median, frate.median):.2f}", correctness, "info",
    ))
