"""`kill -9` between the 200 and the handling (issue #21): a real `python -m bot` in webhook mode is sent 90
travellers' /help at once; the moment Telegram (the fake) has a 200 for every one of them — while most are still
waiting their turn behind Telegram's flood limit — the process is killed with SIGKILL. A second process takes the
stored updates over once their lease ran out: every traveller is answered, and at most the few replies sent but
not yet marked done at the kill go out twice."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from bot.db import free_port
from core.database import Database
from models.telegram_update import TelegramUpdateRow
from tests.children import healthy, start_flyo
from tests.flows import eventually
from tests.ops.test_telegram_webhook import SECRET

pytestmark = pytest.mark.slow  # two `python -m bot` child processes, one of them killed
CROWD = 90
HELP = "books flights right here"


async def test_kill_9_after_the_200_loses_no_tap(inventory_db: Database, telegram: Any, mongo_uri: str,
                                                 tmp_path: Path) -> None:
    telegram.strict_chats = False
    telegram.flood_limit = 30  # as Telegram (and FlyO's own rate limiter): replies take seconds, the kill lands first
    travellers = [telegram.traveller(830_000 + i) for i in range(CROWD)]

    def start(port: int) -> Any:
        return start_flyo(telegram, mongo_uri, inventory_db.db.name, tmp_path / "data", port,
                          TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhooks/telegram",
                          TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_UPDATE_LEASE_SECONDS="5",
                          SWEEP_INTERVAL_SECONDS="1")

    def answered() -> list[int]:
        return [sum(HELP in m.plain_text() for m in t.messages()) for t in travellers]

    port = free_port()
    first = start(port)
    try:
        await eventually(lambda: healthy(f"http://127.0.0.1:{port}"), timeout=60, interval=0.2)
        await eventually(lambda: _true(telegram.webhook_url is not None), timeout=30, interval=0.1)
        await asyncio.gather(*(t.send("/help") for t in travellers))

        async def all_accepted() -> bool:
            return sum(1 for d in telegram.webhook_deliveries if d.status == 200) >= CROWD

        await eventually(all_accepted, timeout=60, interval=0.01)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    at_kill = sum(1 for n in answered() if n)
    assert at_kill < CROWD // 2, f"{at_kill} of {CROWD} were answered before the kill: nothing was tested"
    not_done = await TelegramUpdateRow.find({"done": False}).to_list()
    assert len(not_done) >= CROWD - at_kill

    second_started = time.monotonic()  # the fake's clock: a reply the first process sent reached it before this
    second_port = free_port()
    second = start(second_port)
    try:
        async def everyone_answered() -> bool:
            return all(answered()) and await TelegramUpdateRow.find({"done": False}).count() == 0

        await eventually(everyone_answered, timeout=120, interval=0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(second.wait, 30) == 0
    counts = answered()
    # Replied to before the kill but not yet marked done: the only updates whose reply may go out twice.
    first_replies = {c.params.get("chat_id") for c in telegram.calls_of("sendMessage")
                     if c.error_code is None and c.time < second_started}
    replied_not_done = sum(1 for row in not_done if row.body["message"]["chat"]["id"] in first_replies)
    assert all(n >= 1 for n in counts)
    duplicates = sum(counts) - CROWD
    assert duplicates <= replied_not_done, (
        f"{duplicates} duplicate replies; only {replied_not_done} were sent but not yet marked done at the kill")
    print(f"\nkill -9 after the 200: {at_kill}/{CROWD} answered before the kill, all {CROWD} after the restart, "
          f"{duplicates} duplicates ({replied_not_done} replied to but not marked done at the kill)")


async def _true(value: bool) -> bool:
    return value
