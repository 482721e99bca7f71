"""`kill -9` in the middle of a cancelled flight's alerts (issue #18): a real `python -m bot` replays a scripted
status day (FLIGHT_STATUS_FEED), cancels a flight with 120 confirmed travellers and starts telling them; it is
killed with SIGKILL partway through the delivery, and a second process finishes. Every traveller ends with exactly
one alert row per channel, every traveller is told, and at most the one message in flight at the kill is sent
twice."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db import free_port
from core.clock import as_utc
from core.database import Database
from models.flight import Flight
from models.ops import Notification
from repos.base import collection
from tests.children import healthy, start_flyo
from tests.crowd import confirmed_crowd
from tests.fakes.sendgrid import FakeSendGrid
from tests.flows import eventually

pytestmark = pytest.mark.slow  # two `python -m bot` child processes, one of them killed
CROWD = 120


def _start_bot(telegram: Any, sendgrid: FakeSendGrid, mongo_uri: str, db_name: str, data_dir: Path, port: int,
               script: Path) -> subprocess.Popen[bytes]:
    return start_flyo(telegram, mongo_uri, db_name, data_dir, port, SENDGRID_API_KEY="SG.kill9",
                      SENDGRID_API_URL=sendgrid.url, EMAIL_FROM="tickets@flyo.test",
                      FLIGHT_STATUS_FEED=f"scripted:{script}", SWEEP_INTERVAL_SECONDS="1")


async def test_kill_9_mid_alerts_every_traveller_one_row_and_told(inventory_db: Database, telegram: Any,
                                                                   mongo_uri: str, tmp_path: Path) -> None:
    telegram.strict_chats = False
    telegram.flood_limit = 30  # as Telegram: the delivery takes seconds, so the kill lands in the middle of it
    now = datetime.now(UTC)
    # tomorrow's: the scripted feed looks at flights of the coming two days
    flight = await Flight.find_one({"route_key": f"LHR-JFK-{(now + timedelta(days=1)).date().isoformat()}",
                                    "source": "local"})
    assert flight is not None
    crowd = await confirmed_crowd(flight, CROWD, first_chat=820_000, prefix="K")
    travellers = {b.chat_id: telegram.traveller(b.chat_id) for b in crowd}
    minutes = int((now - as_utc(flight.departs_at)).total_seconds() // 60) - 1  # "now", relative to departure
    script = tmp_path / "day.json"
    script.write_text(json.dumps([{"flight": flight.flight_number, "minutes": minutes, "kind": "cancelled",
                                   "reason": "storm"}]))

    async with FakeSendGrid() as sendgrid:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        start = (telegram, sendgrid, mongo_uri, inventory_db.db.name, tmp_path / "data", port, script)

        def told() -> int:
            return sum(1 for c in telegram.calls_of("sendMessage")
                       if c.error_code is None and int(c.params.get("chat_id", 0)) in travellers)

        first = _start_bot(*start)
        try:
            await eventually(lambda: healthy(url), timeout=60, interval=0.2)

            async def some_told() -> bool:
                return told() >= CROWD // 3

            await eventually(some_told, timeout=60, interval=0.05)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        at_kill = told()
        assert at_kill < CROWD, "the delivery finished before the kill: nothing was tested"
        rows = collection(Notification)
        assert await rows.count_documents({"key": {"$regex": "^flight-"}, "channel": "chat"}) == CROWD
        # The rows the dead process had claimed come back once their claim runs out (a minute); let it run out.
        await rows.update_many({"status": "sending"}, {"$set": {"claimed_until_ms": 0}})

        second = _start_bot(*start)
        try:
            async def all_told() -> bool:
                pending = await rows.count_documents({"key": {"$regex": "^flight-"}, "status": {"$ne": "sent"}})
                return pending == 0 and told() >= CROWD

            await eventually(all_told, timeout=120, interval=0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(second.wait, 30) == 0

    for chat_id in travellers:
        assert await rows.count_documents({"key": {"$regex": "^flight-"}, "channel": "chat",
                                           "payload.chat_id": chat_id}) == 1
    counts = [sum(1 for m in t.messages() if "is cancelled" in m.plain_text()) for t in travellers.values()]
    assert all(n >= 1 for n in counts)
    assert sum(counts) - CROWD <= 1, f"{sum(counts) - CROWD} duplicate alerts (at most the one in flight)"
    mails = len([m for m in sendgrid.messages if "Cancelled" in (m.subject or "")])
    assert CROWD <= mails <= CROWD + 1
