"""`python -m bot` as an operator runs it: SIGTERM mid-booking stops it cleanly, and a restart on the same
DATA_DIR continues every chat at the step it was (state lives in the embedded database, not in memory).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.db import free_port
from core.clock import Clock
from tests.conftest import REPO_ROOT
from tests.flows import free_seats, pick_first_fare, search_one_line, travel_day

FIRST_START_SECONDS = 120  # the first start seeds 120 days of inventory into the embedded database
STOP_SECONDS = 15

pytestmark = pytest.mark.slow  # starts `python -m bot` twice as child processes


class BotProcess:
    """One `python -m bot` child on the fake Bot API, with its embedded database in `data_dir`."""

    def __init__(self, telegram: Any, data_dir: Path, log: Path) -> None:
        self.telegram, self.data_dir, self.log = telegram, data_dir, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, ready_within: float) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.data_dir),
            "TELEGRAM_BOT_TOKEN": self.telegram.token, "TELEGRAM_API_URL": self.telegram.api_root,
            "DATA_DIR": str(self.data_dir), "HTTP_PORT": str(free_port()), "LOG_LEVEL": "INFO",
        }
        started = time.monotonic()
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=REPO_ROOT, env=env, stdout=out, stderr=out,
            )
        try:  # polling has begun: FlyO is ready for travellers
            await self.telegram.wait_for_call("getUpdates", lambda c: c.time > started, timeout=ready_within)
        except AssertionError:
            raise AssertionError(f"FlyO did not start; its log:\n{self.tail()}") from None

    def embedded_server_pid(self) -> int:
        return int(json.loads((self.data_dir / "mongo" / "server.json").read_text())["pid"])

    async def sigterm(self) -> tuple[int, float]:
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
        except TimeoutError:
            raise AssertionError(f"FlyO did not stop within {STOP_SECONDS}s:\n{self.tail()}") from None
        return code, time.monotonic() - began

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


def _is_nx_server(pid: int) -> bool:
    try:
        return b"nx_27017" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


async def _stop_and_check(child: BotProcess) -> float:
    server_pid = child.embedded_server_pid()
    assert _is_nx_server(server_pid)
    code, took = await child.sigterm()
    assert code == 0, child.tail()
    assert not _is_nx_server(server_pid), "the embedded database outlived FlyO"
    assert not (child.data_dir / "mongo" / "server.json").exists()
    return took


async def test_sigterm_mid_booking_then_restart_continues_the_chat(telegram: Any, tmp_path: Path) -> None:
    child = BotProcess(telegram, tmp_path / "data", tmp_path / "flyo.out")
    ada = telegram.traveller(8201, first_name="Ada")
    try:
        await child.start(FIRST_START_SECONDS)
        await search_one_line(ada, "LHR", "JFK", travel_day(Clock()), 1)
        seat_map = await pick_first_fare(ada)
        free = free_seats(seat_map)
        stop_1 = await _stop_and_check(child)

        await child.start(30)
        await ada.press(free[0], seat_map)  # a button from before the restart, at the same step
        picked = await ada.wait_for("All seats picked")
        assert f"✅{free[0]}" in picked.button_labels()

        # SIGTERM with the next tap in flight: it is answered once, by whichever process got it.
        await ada.press("Continue")
        stop_2 = await _stop_and_check(child)
        await child.start(30)
        await ada.wait_for("Passenger 1 of 1", timeout=10)
        await ada.send("Ada Lovelace")
        await ada.wait_for("Date of birth")
        assert sum("Passenger 1 of 1" in m.plain_text() for m in ada.messages()) == 1
        await _stop_and_check(child)
    finally:
        child.kill()
    assert stop_1 < STOP_SECONDS and stop_2 < STOP_SECONDS
