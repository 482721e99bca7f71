"""Flood control shared by replicas (issue #21): one user's updates spread over several FlyO processes by the
proxy are counted in one window in MongoDB (services.flood.SharedFloodGate), so three replicas don't triple the
limit. Its verdicts are those of one process's own window (FloodGate) over the same updates, whatever replica each
update reaches; one replica, and one only, sends the notice."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.errors import AutoReconnect

from core.database import Database, counting_round_trips
from handlers.ops import FLOOD_WARNING
from models.flood_window import FloodWindow
from repos.flood import FloodWindows
from services.flood import FloodGate, SharedFloodGate, Verdict
from tests.harness import running_bot

HELP = "books flights right here"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def replicas(clock: Clock, count: int = 3, limit: int = 5, window: float = 10.0) -> list[SharedFloodGate]:
    return [SharedFloodGate(limit, window, clock=clock) for _ in range(count)]


async def test_three_replicas_share_one_window(db: Database) -> None:
    clock = Clock()
    gates = replicas(clock)
    verdicts = []
    for i in range(9):  # round robin, as the proxy spreads them
        verdicts.append(await gates[i % 3].verdict(42))
        clock.now += 0.1
    assert verdicts == [Verdict.ACCEPT] * 5 + [Verdict.WARN] + [Verdict.DROP] * 3
    assert await gates[0].verdict(43) == Verdict.ACCEPT  # another user is not affected
    clock.now += 10.0  # a quiet window clears it
    assert await gates[2].verdict(42) == Verdict.ACCEPT


async def test_a_burst_at_once_over_three_replicas_lets_exactly_the_limit_through(db: Database) -> None:
    clock = Clock()
    gates = replicas(clock, limit=20)
    verdicts = await asyncio.gather(*(gates[i % 3].verdict(7) for i in range(60)))
    assert verdicts.count(Verdict.ACCEPT) == 20
    assert verdicts.count(Verdict.WARN) == 1  # one replica, and one only, tells the user
    assert verdicts.count(Verdict.DROP) == 39


async def test_one_update_costs_one_round_trip_and_a_flood_two(db: Database) -> None:
    clock = Clock()
    [gate] = replicas(clock, count=1, limit=1)
    with counting_round_trips() as first:
        await gate.verdict(9)
    with counting_round_trips() as over:
        await gate.verdict(9)
    assert first == ["findAndModify flood_windows"]
    assert over == ["findAndModify flood_windows", "update flood_windows"]  # and the notice is claimed


async def test_the_sweep_forgets_users_quiet_for_a_window(db: Database) -> None:
    clock = Clock()
    [gate] = replicas(clock, count=1)
    await gate.verdict(1)
    clock.now += 5
    await gate.verdict(2)
    clock.now += 6  # user 1 quiet for 11 s, user 2 for 6 s
    assert await gate.forget_idle() == 1
    assert [row.user_id for row in await FloodWindow.find_all().to_list()] == [2]


async def test_first_updates_of_a_user_at_two_replicas_at_once_make_one_row(db: Database) -> None:
    clock = Clock()
    gates = replicas(clock, count=2)
    for user in range(20):
        await asyncio.gather(gates[0].verdict(user), gates[1].verdict(user))
    rows = await FloodWindow.find_all().to_list()
    assert sorted(r.user_id for r in rows) == list(range(20))
    assert all(len(r.times) == 2 for r in rows)


class Unreachable(FloodWindows):
    async def note(self, user_id: int, now: float, keep: int, idle_after: float) -> list[float]:
        raise AutoReconnect("connection refused")


async def test_with_the_database_down_this_process_window_decides() -> None:
    clock = Clock()
    gate = SharedFloodGate(3, 10.0, repo=Unreachable(), clock=clock)
    assert [await gate.verdict(5) for _ in range(5)] == [Verdict.ACCEPT] * 3 + [Verdict.WARN, Verdict.DROP]


@st.composite
def traffic(draw: st.DrawFn) -> list[tuple[int, int, float]]:
    """(user, replica, seconds since the previous update): bursts and pauses around the window's length."""
    steps = st.tuples(st.integers(0, 2), st.integers(0, 2),
                      st.one_of(st.just(0.0), st.floats(0.0, 1.0), st.floats(9.0, 11.0)))
    return draw(st.lists(steps, min_size=1, max_size=40))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=traffic())
async def test_shared_verdicts_match_one_process_window(db: Database, steps: list[tuple[int, int, float]]) -> None:
    """Whatever replica each update reaches, the shared window lets through exactly what one process's window
    would; and the user is told at most once per window."""
    await FloodWindow.get_pymongo_collection().delete_many({})
    clock = Clock()
    gates, single = replicas(clock, limit=4), FloodGate(4, 10.0, clock)
    told: dict[int, list[float]] = {}
    for user, replica, pause in steps:
        clock.now += pause
        shared, expected = await gates[replica].verdict(user), single.check(user)
        assert (shared is Verdict.ACCEPT) == (expected is Verdict.ACCEPT), (user, replica, clock.now)
        if shared is Verdict.WARN:
            told.setdefault(user, []).append(clock.now)
    for times in told.values():
        assert all(later - earlier >= 10.0 for earlier, later in pairwise(times))


async def test_a_user_flooding_another_replica_is_throttled_here(inventory_db: Database, telegram: Any,
                                                                 tmp_path: Path) -> None:
    """The bot, with FLOOD_SHARED on, counts what another replica saw: 18 updates there, 2 more here are within the
    limit of 20, the third is over — the notice comes from here, once, and the fourth is dropped quietly."""
    async with running_bot(inventory_db, telegram, tmp_path, FLOOD_SHARED=True, FLOOD_MAX_UPDATES=20,
                           FLOOD_WINDOW_SECONDS=600) as running:
        other_replica = SharedFloodGate(20, 600)
        ada = running.telegram.traveller(4301)
        for _ in range(18):
            assert await other_replica.verdict(4301) == Verdict.ACCEPT
        for _ in range(4):
            await ada.send("/help")
        received = [await ada.next_message(timeout=10) for _ in range(3)]
        await ada.assert_no_message(0.5)
    texts = [m.plain_text() for m in received]
    assert sum(HELP in t for t in texts) == 2
    assert texts.count(FLOOD_WARNING) == 1


@pytest.mark.parametrize("shared", [True, False])
async def test_flood_shared_follows_the_database_unless_set(shared: bool, tmp_path: Path) -> None:
    from bot.runtime import flood_gate
    from core.config import Settings

    replicas_uri = Settings(MONGODB_URI="mongodb://db.example:27017", DATA_DIR=tmp_path)
    embedded = Settings(DATA_DIR=tmp_path)
    assert isinstance(flood_gate(replicas_uri), SharedFloodGate)
    assert type(flood_gate(embedded)) is FloodGate
    forced = Settings(DATA_DIR=tmp_path, FLOOD_SHARED=shared)
    assert isinstance(flood_gate(forced), SharedFloodGate) is shared


async def test_the_outgoing_limiter_sends_at_this_replicas_share(tmp_path: Path) -> None:
    """TELEGRAM_SEND_RATE reaches PTB's limiter: with three replicas each sends a third of Telegram's ~30/s."""
    from bot.app import build_application
    from core.config import Settings

    settings = Settings(TELEGRAM_BOT_TOKEN="1:x", DATA_DIR=tmp_path, TELEGRAM_SEND_RATE=10)
    services: Any = type("S", (), {"settings": settings, "telegram_inbox": None, "flood_gate": None})()
    application = build_application(settings, services, with_updater=False)
    limiter = application.bot.rate_limiter
    assert limiter is not None and limiter._base_limiter.max_rate == 10  # type: ignore[attr-defined]
