"""Outgoing: Telegram's 429 is waited out. Incoming: one flooding user can't starve the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.database import Database
from handlers.ops import FLOOD_TOAST, FLOOD_WARNING
from services.flood import FloodGate, Verdict
from tests.flows import search_one_line, travel_day
from tests.harness import RunningBot, running_bot
from tests.ops.helpers import sample


async def test_flood_control_reply_from_telegram_is_retried_after_retry_after(bot: RunningBot) -> None:
    ada = bot.telegram.traveller(4101)
    bot.telegram.fail_next("sendMessage", 429, retry_after=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await ada.send("/help")
    await ada.wait_for("books flights right here", timeout=10)
    waited = loop.time() - started
    assert waited >= 1.0, f"the retry came after {waited:.2f}s, before Telegram's retry_after"
    first, second = bot.telegram.calls_of("sendMessage")[-2:]
    assert first.error_code == 429 and second.error_code is None
    assert second.time - first.time >= 1.0


async def test_without_the_rate_limiter_a_429_is_not_retried(inventory_db: Database, telegram: Any,
                                                             tmp_path: Path) -> None:
    async with running_bot(inventory_db, telegram, tmp_path, TELEGRAM_RATE_LIMIT=False) as running:
        ada = running.telegram.traveller(4102)
        running.telegram.fail_next("sendMessage", 429, retry_after=1)
        await ada.send("/help")
        # The reply is lost; the error handler's apology is the next thing the traveller sees.
        await ada.wait_for("Something went wrong", timeout=5)
    assert len([c for c in telegram.calls_of("sendMessage") if c.error_code == 429]) == 1


# ---- incoming flood control --------------------------------------------------------------------
class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gate_warns_once_then_drops_until_the_window_clears() -> None:
    clock = FakeMonotonic()
    gate = FloodGate(limit=20, window=10.0, clock=clock)
    verdicts = []
    for _ in range(25):
        verdicts.append(gate.check(1))
        clock.now += 0.1
    assert verdicts[:20] == [Verdict.ACCEPT] * 20
    assert verdicts[20] == Verdict.WARN
    assert verdicts[21:] == [Verdict.DROP] * 4
    assert gate.check(2) == Verdict.ACCEPT  # other users are unaffected
    clock.now += 10.0  # a quiet window
    assert gate.check(1) == Verdict.ACCEPT
    for _ in range(19):
        gate.check(1)
    assert gate.check(1) == Verdict.WARN  # a new episode gets a new notice


def test_gate_allows_a_steady_pace_below_the_limit() -> None:
    clock = FakeMonotonic()
    gate = FloodGate(limit=20, window=10.0, clock=clock)
    for _ in range(200):
        assert gate.check(1) == Verdict.ACCEPT
        clock.now += 0.5  # 20 per 10 s exactly is allowed: the limit is "more than 20"


def test_gate_forgets_idle_users() -> None:
    clock = FakeMonotonic()
    gate = FloodGate(limit=5, window=10.0, clock=clock)
    for user in range(FloodGate.PRUNE_EVERY - 1):
        gate.check(user)
    clock.now += 11
    gate.check(999_999)  # the PRUNE_EVERY-th check sweeps users idle for a whole window
    assert gate.tracked_users == 1


@pytest.fixture
async def flood_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(inventory_db, telegram, tmp_path) as running:  # default 20 updates / 10 s
        yield running


async def test_flooding_traveller_is_throttled_while_another_is_served(flood_bot: RunningBot) -> None:
    fake = flood_bot.telegram
    flooder, grace = fake.traveller(4201), fake.traveller(4202, first_name="Grace")
    throttled_before = sample("flyo_telegram_updates_total", type="command", outcome="throttled")
    for _ in range(40):
        await flooder.send("/help")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await grace.send("/start")
    await grace.wait_for("Hi Grace")
    grace_latency = loop.time() - started

    received = [await flooder.next_message(timeout=10) for _ in range(21)]
    await flooder.assert_no_message(0.5)
    texts = [m.plain_text() for m in received]
    assert texts.count(FLOOD_WARNING) == 1
    assert sum("books flights right here" in t for t in texts) == 20
    assert sample("flyo_telegram_updates_total", type="command", outcome="throttled") == throttled_before + 20
    assert grace_latency < 1.0, f"Grace waited {grace_latency:.2f}s behind the flood"


async def test_every_throttled_button_press_is_answered_with_the_slow_down_toast(
        inventory_db: Database, telegram: Any, tmp_path: Path) -> None:
    """A press Telegram never gets an answer for keeps its spinner: throttled presses are answered too."""
    # A long window, so the count does not depend on how fast this machine runs the search.
    async with running_bot(inventory_db, telegram, tmp_path, FLOOD_MAX_UPDATES=20, FLOOD_WINDOW_SECONDS=600) as bot:
        fake = bot.telegram
        ada = fake.traveller(4203)
        results = await search_one_line(ada, "LHR", "JFK", travel_day(bot.clock), 1)  # update 1 of 20
        data = results.find_button("By price").callback_data
        assert data is not None
        presses = [(await ada.press_data(data, results.message_id))["callback_query"]["id"] for _ in range(25)]
        await fake.wait_until_callbacks_answered(timeout=30)
        records = [fake.callback_query(query_id) for query_id in presses]
        assert [r.answers for r in records] == [1] * 25
        assert sum(r.rejected_answers for r in records) == 0  # answered once, never twice
        throttled = [r for r in records if r.answer_texts == [FLOOD_TOAST]]
        assert len(throttled) == 25 - 19  # /search and 19 presses fit in the limit of 20
        await ada.wait_for(FLOOD_WARNING, timeout=10)  # and the chat notice, once
