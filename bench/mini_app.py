"""Scenario — the seat map Mini App's poll: many open pages asking FlyO for their seat map every 4 seconds.

Each page's poll is `GET /app/api/seats` through FlyO's real aiohttp route: the init data checked (HMAC), the
chat's conversation read, the flight and its live seats read, and the cabin drawn as JSON (a Boeing 777-300ER
economy cabin, 380 seats, a third of them held). Baseline, same server, same concurrency, measured back to back:
`GET /healthz`, an HTTP request that costs one database round trip and no work of ours; the ratio says what a poll
costs in such requests (it does two reads of the seats and draws 380 of them). Goal: one FlyO process serves the
polls of 1,000 open pages, i.e. ≥ 250 polls/s at 16 at a time.

Correctness (fails the run): every poll answered 200 with 380 seats, exactly the held ones shown taken.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import aiohttp
from aiohttp import web

from bench import common
from core.clock import Clock
from core.config import Settings
from miniapp import seats as seat_routes
from models import Flight
from models.conversation import Draft, Pick, Step
from services.inventory.seed import seed_inventory
from services.webapp_auth import sign_init_data
from webhooks import health
from webhooks.keys import SERVICES, SETTINGS

NAME = "mini_app"
GOAL_POLLS_PER_SECOND = 250.0  # 1,000 open pages, one poll each every 4 s
CONCURRENCY = 16
TOKEN = "123456:BENCH"
HELD_SHARE = 3  # one seat in three held by other travellers


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _pages(services: Any, users: int) -> tuple[str, int]:
    """`users` chats on the seat step of one 777-300ER flight; the flight id and its held seats."""
    flight = await Flight.find_one({"source": "local", "aircraft": "77W"})
    assert flight is not None, "the seed has no 777-300ER flight"
    layout, _blocked = await services.flights.layout(flight, "economy")
    held = 0
    for number, seat in enumerate(layout.seat_codes()):
        if number % HELD_SHARE == 0:
            await services.seats.hold(str(flight.id), seat, f"chat:{900_000 + number}", "economy")
            held += 1
    for user in range(1, users + 1):
        conv = await services.conversations.load(user, user)
        draft = Draft(picks=[Pick(flight_id=str(flight.id), flight_number=flight.flight_number, cabin="economy",
                                  fare=flight.fares["economy"], currency=flight.currency, seats=[None, None])])
        conv.step, conv.flow = Step.SEATS, f"b{user:03d}"
        services.conversations.keep_draft(conv, draft)
        await services.conversations.save(conv)
    return str(flight.id), held


def _init_data(user: int) -> str:
    return sign_init_data({"user": json.dumps({"id": user, "first_name": "Bench"}),
                           "auth_date": str(int(time.time()))}, TOKEN)


async def _measure(url: str, requests: list[tuple[str, dict[str, str]]], check: Any) -> tuple[list[float], int]:
    """Send the requests CONCURRENCY at a time; the latencies (s) and how many answers failed `check`."""
    latencies: list[float] = []
    bad = 0
    queue = list(requests)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:
        async def worker() -> None:
            nonlocal bad
            while queue:
                path, headers = queue.pop()
                start = time.perf_counter()
                async with http.get(url + path, headers=headers) as response:
                    body = await response.read()
                latencies.append(time.perf_counter() - start)
                if not check(response.status, body):
                    bad += 1
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies, bad


async def run(config: common.BenchConfig) -> common.ScenarioResult:
    result = common.ScenarioResult(NAME)
    users, polls = config.size(200, 30), config.size(2000, 200)
    with common.scratch_dir(config, NAME) as data_dir:
        async with common.bench_database(config, data_dir) as database:
            from bot.runtime import build_services

            await seed_inventory(Clock(), days=2)
            settings = Settings(TELEGRAM_BOT_TOKEN=TOKEN, DATA_DIR=data_dir)  # type: ignore[arg-type]
            services = await build_services(settings, database)
            flight_id, held = await _pages(services, users)
            app = web.Application()
            app[SETTINGS], app[SERVICES] = settings, services
            app.add_routes(seat_routes.routes)
            app.add_routes(health.routes)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            port = _free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            url = f"http://127.0.0.1:{port}"

            def seat_map_ok(status: int, body: bytes) -> bool:
                if status != 200:
                    return False
                seats = [s for row in json.loads(body)["segments"][0]["rows"] for s in row["seats"]]
                return len(seats) == 380 and sum(s[2] == "taken" for s in seats) == held

            try:
                product, floor = [], []
                for rep in range(config.reps + 1):  # rep 0 warms up
                    size = polls if rep else max(50, polls // 10)
                    page_polls = [(f"/app/api/seats?f=b{(i % users) + 1:03d}",
                                   {"Authorization": "tma " + _init_data((i % users) + 1)}) for i in range(size)]
                    base, _ = await _measure(url, [("/healthz", {})] * size, lambda status, _body: status == 200)
                    with common.CpuMeter(database):
                        started = time.perf_counter()
                        latencies, bad = await _measure(url, page_polls, seat_map_ok)
                        seconds = time.perf_counter() - started
                    result.check("every poll a whole, correct seat map", bad == 0,
                                 f"{size - bad}/{size} polls: 380 seats, {held} taken")
                    if rep:
                        product.append((common.Latency.of_seconds(latencies), size / seconds))
                        floor.append(common.Latency.of_seconds(base))
                        common.progress(f"{NAME}: rep {rep}: poll p99 {product[-1][0].p99:.1f} ms, /healthz p99 "
                                        f"{floor[-1].p99:.1f} ms, {product[-1][1]:.0f} polls/s")
            finally:
                await runner.cleanup()
    _rows(result, users, polls, product, floor)
    del flight_id
    return result


def _rows(result: common.ScenarioResult, users: int, polls: int, product: list[tuple[common.Latency, float]],
          floor: list[common.Latency]) -> None:
    p99 = common.summarise(product, lambda r: r[0].p99)
    p50 = common.summarise(product, lambda r: r[0].p50)
    b99 = common.summarise(floor, lambda r: r.p99)
    ratios = common.summarise(range(len(product)), lambda i: common.ratio(product[i][0].p99, floor[i].p99))
    rate = common.summarise(product, lambda r: r[1])
    result.rows.append(common.Row(
        NAME, f"seat map polls per second (p99, p50 in brackets), {polls} polls from {users} open pages, "
              f"{CONCURRENCY} at a time",
        f"≥ {GOAL_POLLS_PER_SECOND:.0f} polls/s", f"{rate.show(' polls/s', 0)}; p99 {p99.show(' ms')} "
                                                  f"({common.fmt(p50.median)} ms)",
        f"GET /healthz p99: {b99.show(' ms')}", f"p99 ×{ratios.median:.2f} (±{ratios.spread_pct / 2:.0f}%)",
        result.correctness_text(), common.status_for(rate.median >= GOAL_POLLS_PER_SECOND)))
    result.notes.append(f"at one poll per 4 s per page, one FlyO process serves about {common.fmt(rate.median * 4, 0)} "
                        "open seat maps; the poll's p99 is the ratio's times a one-round-trip request's")
