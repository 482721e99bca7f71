"""Scenario 5 — memory: RSS of the bot process before and after 1000 travellers each left mid-booking.

The bot runs in its own process (bench/botproc.py: `create_web_app` as `python -m bot` runs it, on the
database this process started), so the fake Bot API and the 1000 travellers — both in this process —
are not counted. Each traveller searches and opens the seat map of a flight, then goes quiet: the
conversation is parked mid-booking. After each round the bot process runs `gc.collect()` and reports
VmRSS and its live object count. FlyO keeps per-chat state in MongoDB by design, so the growth should
be what the process keeps per chat that has ever written (flood-control windows, caches), if anything.

Baseline, same run: the bare PTB echo bot (built like FlyO) in its own process, 1000 new chats per round
sending as many updates each.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.botproc import RSS_ROUTE
from bench.common import (
    REPO_ROOT,
    BenchConfig,
    Row,
    ScenarioResult,
    bench_database,
    ensure_small_inventory,
    fmt,
    progress,
    scratch_dir,
    status_for,
    summarise,
)
from bench.load import (
    BuilderSettings,
    TimedTraveller,
    busy_routes,
    echo_script,
    product_builder_settings,
    run_together,
)
from bot.db import free_port
from core.clock import Clock
from core.crypto import generate_key
from models import Conversation
from tests.fakes.telegram import FakeTelegram
from tests.flows import pick_first_fare, search_one_line, travel_day

NAME = "memory"
GOAL_MB_PER_1000 = 1.0
MB = 1024 * 1024
FIRST_USER_ID = 9_000_000
STARTUP_TIMEOUT = 60.0
# Variables a developer may have exported that must not reach the bot process (never real keys).
_FOREIGN = ("TELEGRAM_", "STRIPE_", "SENDGRID_", "AMADEUS_", "MONGODB_", "ADMIN_IDS", "DATA_DIR", "PUBLIC_URL",
            "HTTP_", "EMAIL_FROM", "DEMO_PAYMENTS", "LOG_")


@dataclass(frozen=True)
class Sample:
    rss: int
    objects: int


@dataclass(frozen=True)
class Growth:
    travellers: int
    rss_bytes: int
    objects: int
    seconds: float

    @property
    def mb_per_1000(self) -> float:
        return self.rss_bytes / MB / self.travellers * 1000

    @property
    def objects_per_1000(self) -> float:
        return self.objects / self.travellers * 1000


class BotProcess:
    """A bot in a child process; `sample()` asks it for its RSS after a full collection."""

    def __init__(self, process: asyncio.subprocess.Process, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    async def sample(self) -> Sample:
        async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{self.port}{RSS_ROUTE}") as r:
            data = await r.json()
        return Sample(int(data["rss"]), int(data["objects"]))

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return "(no log)"


@contextlib.asynccontextmanager
async def bot_process(args: list[str], env: dict[str, str], telegram: FakeTelegram,
                      log: Path) -> AsyncIterator[BotProcess]:
    """Start `python -m bench.botproc ARGS`; ready once it answers the RSS route and polls the fake."""
    port = int(env["HTTP_PORT"])
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.botproc", *args, cwd=REPO_ROOT, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )
    bot = BotProcess(process, port, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"the bot process exited ({process.returncode}):\n{bot.tail()}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                await bot.sample()
                if telegram.calls_of("getUpdates"):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bot process did not start within {STARTUP_TIMEOUT:.0f} s:\n{bot.tail()}")
            await asyncio.sleep(0.2)
        yield bot
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


def child_env(telegram: FakeTelegram, data_dir: Path, mongo_uri: str, db_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    env.update({
        "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.api_root, "MONGODB_URI": mongo_uri,
        "MONGODB_DB": db_name, "DATA_DIR": str(data_dir), "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(free_port()),
        "TELEGRAM_RATE_LIMIT": "false", "LOG_LEVEL": "INFO",
        "DATA_ENCRYPTION_KEYS": generate_key(),  # MONGODB_URI: FlyO wants the key given (core.data_keys)
    })
    return env


async def measure_rounds(bot: BotProcess, telegram: FakeTelegram, script: Callable[[TimedTraveller], Awaitable[None]],
                         first_id: int, warm: int, n: int, reps: int) -> list[Growth]:
    """A warm-up round, then `reps` rounds of N new travellers; growth of the bot process per round."""
    next_id = first_id

    async def one_round(size: int) -> float:
        nonlocal next_id
        samples: list[float] = []
        travellers = [TimedTraveller(telegram.traveller(uid), samples) for uid in range(next_id, next_id + size)]
        next_id += size
        return await run_together(travellers, script)

    await one_round(warm)
    before = await bot.sample()
    growth: list[Growth] = []
    for _ in range(reps):
        seconds = await one_round(n)
        after = await bot.sample()
        growth.append(Growth(n, after.rss - before.rss, after.objects - before.objects, seconds))
        before = after
    return growth


async def run(config: BenchConfig) -> ScenarioResult:
    result = ScenarioResult(NAME)
    n = config.size(1000, 60)
    warm = n  # as many as a round: the allocator's high-water mark for a burst of n is reached before measuring
    routes = busy_routes()
    db_name = "flyo_bench_memory"
    with scratch_dir(config, NAME) as data_dir:
        async with bench_database(config, data_dir, db_name) as database:
            await ensure_small_inventory()
            like = await product_builder_settings(database, data_dir)
            uri = config.mongo_uri or (database.embedded.uri if database.embedded else "")
            clock = Clock()

            async def mid_booking(t: TimedTraveller) -> None:
                i = t.user_id - FIRST_USER_ID
                origin, destination = routes[i % len(routes)]
                await search_one_line(t, origin, destination, travel_day(clock, 3 + (i // len(routes)) % 25), 1)
                await pick_first_fare(t)  # the seat map is open; the traveller goes quiet here

            async def echo_two(t: TimedTraveller) -> None:
                await echo_script(t, 2)

            progress(f"{NAME}: FlyO bot process, warm-up {warm} then {config.reps} × {n} travellers")
            async with FakeTelegram() as telegram, bot_process(
                [], child_env(telegram, data_dir / "flyo", uri, db_name), telegram, data_dir / "flyo.log"
            ) as bot:
                flyo = await measure_rounds(bot, telegram, mid_booking, FIRST_USER_ID, warm, n, config.reps)
            parked = await Conversation.find({"step": "seats"}).count()
            total = warm + n * config.reps
            result.check("parked mid-booking", parked == total,
                         f"{parked}/{total} conversations parked at the seat map")
            progress(f"{NAME}: echo bot process, same rounds")
            async with FakeTelegram() as telegram, bot_process(
                _echo_args(like), child_env(telegram, data_dir / "echo", uri, db_name), telegram,
                data_dir / "echo.log",
            ) as bot:
                echo = await measure_rounds(bot, telegram, echo_two, FIRST_USER_ID, warm, n, config.reps)
    _rows(result, n, flyo, echo)
    return result


def _echo_args(like: BuilderSettings) -> list[str]:
    return ["--echo", str(like.concurrent_updates), str(like.pool_size), str(like.pool_timeout or 0)]


def _rows(result: ScenarioResult, n: int, flyo: list[Growth], echo: list[Growth]) -> None:
    mb, emb = summarise(flyo, lambda g: g.mb_per_1000), summarise(echo, lambda g: g.mb_per_1000)
    objects, eobjects = summarise(flyo, lambda g: g.objects_per_1000), summarise(echo, lambda g: g.objects_per_1000)
    result.rows.append(Row(
        NAME, f"bot process RSS growth per 1000 idle conversations ({n} per round)",
        f"< {GOAL_MB_PER_1000:g} MB", f"{fmt(mb.median, 2)} MB [{fmt(mb.low, 2)}…{fmt(mb.high, 2)}]",
        f"echo bot: {fmt(emb.median, 2)} MB [{fmt(emb.low, 2)}…{fmt(emb.high, 2)}]",
        f"{mb.median / GOAL_MB_PER_1000:.2f} of goal", result.correctness_text(),
        status_for(mb.median < GOAL_MB_PER_1000),
    ))
    result.notes.append(
        f"live Python objects after gc per 1000 idle conversations: FlyO {objects.median:+,.0f}, echo bot "
        f"{eobjects.median:+,.0f}. RSS is the kernel's view: freed memory that the allocator keeps counts, so "
        "a round can show growth that the next reuses (hence [min…max] over rounds)."
    )
