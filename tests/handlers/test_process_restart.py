"""`kill -9` of a real `python -m bot` process mid-booking: a new process continues the chat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.db import free_port
from core.database import Database
from tests.conftest import REPO_ROOT, TEST_DATA_KEY
from tests.flows import free_seats, pick_first_fare, search_one_line, travel_day

pytestmark = pytest.mark.slow  # starts `python -m bot` as a child process, kills it, starts another


def _start_bot(telegram: Any, mongo_uri: str, db_name: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "STRIPE_", "MONGODB_"))}
    env.update({
        "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.api_root, "MONGODB_URI": mongo_uri,
        "MONGODB_DB": db_name, "DATA_DIR": str(data_dir), "HTTP_PORT": str(free_port()), "LOG_LEVEL": "WARNING",
        "DATA_ENCRYPTION_KEYS": TEST_DATA_KEY,
    })
    return subprocess.Popen([sys.executable, "-m", "bot"], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def test_kill_9_mid_booking_then_a_new_process_continues(inventory_db: Database, telegram: Any,
                                                                 mongo_uri: str, tmp_path: Path) -> None:
    from core.clock import Clock

    t = telegram.traveller(8001)
    first = _start_bot(telegram, mongo_uri, inventory_db.db.name, tmp_path)
    try:
        await t.send("/start")  # what `make run` runs (python -m bot) answers on the fake Bot API
        await t.wait_for("Hi Ada", timeout=30)
        await search_one_line(t, "LHR", "JFK", travel_day(Clock(), 10), 1, timeout=30)
        seat_map = await pick_first_fare(t)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    second = _start_bot(telegram, mongo_uri, inventory_db.db.name, tmp_path)
    try:
        seat = free_seats(seat_map)[0]
        await t.press(seat, seat_map)
        await t.wait_for("All seats picked", timeout=30)
        await t.press("Continue")
        await t.wait_for("Passenger 1 of 1", timeout=10)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
