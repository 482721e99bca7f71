"""Scenario `mongodb` — the run against a real MongoDB (issue #16): `MONGODB_URI=mongodb://127.0.0.1:27017 make bench`.

With `MONGODB_URI` set, every scenario of the run already uses that server (`common.bench_database` →
`open_database(MONGODB_URI, …)`), so their rows are real-MongoDB rows; this scenario says which server it
was (version and hosts, never credentials) and measures the database floor the webhook goal is set against —
a bare conditional `update_one` PENDING → CONFIRMED from `webhook.CONCURRENCY` concurrent clients, one per
post of a webhook-shaped list (30% redeliveries, shuffled) — on that server and, in the same run, on the
embedded nx-27017 (started here in a scratch data directory), so the two databases can be compared.

Without `MONGODB_URI` the row reads "skipped (no MONGODB_URI)" with result `info`; nothing is started.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from bench import common
from bench.webhook import CONCURRENCY, DUPLICATE_SHARE, Post, Round, floor_all
from bot.db import open_database
from core.database import Database

NAME = "mongodb"
DB_NAME = "flyo_bench_mongodb"
COLLECTION = "bench_mongodb_floor"
METRIC = "against a real MongoDB (MONGODB_URI)"


def webhook_shaped_posts(events: int, rng: random.Random) -> list[Post]:
    """`events` distinct event ids plus DUPLICATE_SHARE redeliveries, shuffled (only the ids matter here)."""
    ids = [f"evt_bench_{i:06d}" for i in range(events)]
    total = round(events / (1 - DUPLICATE_SHARE))
    posts = [Post(i, b"", "") for i in ids + [rng.choice(ids) for _ in range(total - events)]]
    rng.shuffle(posts)
    return posts


async def server_version(database: Database) -> str:
    with contextlib.suppress(Exception):
        info = await database.client.server_info()
        return str(info.get("version", "?"))
    return "?"


async def run(config: common.BenchConfig) -> common.ScenarioResult:
    result = common.ScenarioResult(NAME)
    if not config.mongo_uri:
        result.rows.append(common.Row(NAME, METRIC, "report", "skipped (no MONGODB_URI)", "—", "—", "—", "info"))
        result.notes.append("this run used the embedded nx-27017 for every scenario; to run them all against a "
                            "real MongoDB: `MONGODB_URI=mongodb://127.0.0.1:27017 make bench` (bench/README.md).")
        return result
    events = config.size(1000, 100)
    rng = random.Random(27017)
    real_runs: list[Round] = []
    embedded_runs: list[Round] = []
    with common.scratch_dir(config, NAME) as data_dir:
        real = await open_database(config.mongo_uri, DB_NAME, data_dir, init_models=False)
        try:
            embedded = await open_database("", DB_NAME, data_dir, init_models=False)
            try:
                version, embedded_version = await server_version(real), await server_version(embedded)
                real_floor: AsyncCollection[dict[str, Any]] = real.db[COLLECTION]
                embedded_floor: AsyncCollection[dict[str, Any]] = embedded.db[COLLECTION]
                common.progress(f"{NAME}: MongoDB {version} at {common.uri_hosts(config.mongo_uri)} against the "
                                f"embedded nx-27017, {config.reps} × {events} events")
                for rep in range(config.reps + 1):  # rep 0 is the warm-up
                    posts = webhook_shaped_posts(events if rep else max(20, events // 10), rng)
                    on_real = await floor_all(real_floor, posts, CONCURRENCY)
                    on_embedded = await floor_all(embedded_floor, posts, CONCURRENCY)
                    distinct = len({p.event_id for p in posts})
                    for where, run_ in (("MongoDB", on_real), ("nx-27017", on_embedded)):
                        result.check("bare updates", run_.outcomes["modified"] == distinct,
                                     f"each bare update_one transition made once ({where}: "
                                     f"{run_.outcomes['modified']}/{distinct})")
                    if rep:
                        real_runs.append(on_real)
                        embedded_runs.append(on_embedded)
            finally:
                await embedded.close()
        finally:
            with contextlib.suppress(Exception):
                await real.client.drop_database(DB_NAME)
            await real.close()
    _rows(result, config, version, embedded_version, real_runs, embedded_runs)
    return result


def _rows(result: common.ScenarioResult, config: common.BenchConfig, version: str, embedded_version: str,
          real: list[Round], embedded: list[Round]) -> None:
    ops, eops = common.summarise(real, lambda r: r.per_second), common.summarise(embedded, lambda r: r.per_second)
    ratios = common.summarise(range(len(real)), lambda i: common.ratio(real[i].per_second, embedded[i].per_second))
    p99, p50 = common.summarise(real, lambda r: r.latency.p99), common.summarise(real, lambda r: r.latency.p50)
    e99, e50 = common.summarise(embedded, lambda r: r.latency.p99), common.summarise(embedded, lambda r: r.latency.p50)
    correctness = result.correctness_text()
    where = f"MongoDB {version} at {common.uri_hosts(config.mongo_uri)}"
    result.rows.append(common.Row(
        NAME, f"{METRIC}: bare conditional update_one ops/s, {CONCURRENCY} clients ({where})", "report",
        ops.show(" ops/s", 0), f"embedded nx-27017: {eops.show(' ops/s', 0)}",
        f"{ratios.median:.2f} (±{ratios.spread_pct / 2:.0f}%)", correctness, "info",
    ))
    result.rows.append(common.Row(
        NAME, f"{METRIC}: bare conditional update_one p99 (p50)", "report",
        f"{p99.show(' ms')} ({common.fmt(p50.median)} ms)",
        f"embedded nx-27017: {e99.show(' ms')} ({common.fmt(e50.median)} ms)",
        f"p99 ×{common.ratio(p99.median, e99.median):.2f}", correctness, "info",
    ))
    result.notes.append(f"every scenario of this run used {where} (credentials never shown); this scenario's "
                        f"comparison started the embedded nx-27017 (version {embedded_version}) beside it.")

