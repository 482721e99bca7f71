"""A database outage mid-conversation: travellers are told, /healthz says 503, FlyO recovers by itself."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import bot.db
from bot.db import EmbeddedMongo
from core.database import Database
from tests.harness import running_bot
from tests.ops.helpers import http

FAST_FAIL = "&serverSelectionTimeoutMS=800&connectTimeoutMS=800"  # don't make the test wait 5 s per try


@pytest.mark.slow  # stops and restarts an embedded database server
async def test_database_outage_and_recovery(inventory_db: Database, telegram: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Its own server on its own data dir and port: stopping the session's server would break other tests.
    server = EmbeddedMongo(tmp_path / "outage-db")
    await asyncio.to_thread(server.start)
    port = server.port
    try:
        async with running_bot(inventory_db, telegram, tmp_path, share_database=False,
                               mongo_uri=server.uri + FAST_FAIL) as running:
            ada = telegram.traveller(8101, first_name="Ada")
            await ada.send("/start")
            await ada.wait_for("Hi Ada")

            await asyncio.to_thread(server.stop)  # the outage
            await ada.send("/help")
            sorry = await ada.wait_for("temporarily unavailable", timeout=10)
            assert "nothing you entered is lost" in sorry.plain_text()
            status, _, body = await http("GET", f"{running.url}/healthz")
            assert status == 503
            assert json.loads(body)["database"] == "down"
            status, _, metrics = await http("GET", f"{running.url}/metrics")
            assert status == 200 and b"flyo_database_up 0.0" in metrics

            monkeypatch.setattr(bot.db, "free_port", lambda: port)  # same port and data dir as before
            await asyncio.to_thread(server.start)
            loop = asyncio.get_running_loop()
            restarted = loop.time()
            await ada.send("/help")  # no restart of FlyO: PyMongo reconnects on its own
            await ada.wait_for("books flights right here", timeout=10)
            recovery = loop.time() - restarted
            status, _, body = await http("GET", f"{running.url}/healthz")
            assert status == 200 and json.loads(body)["database"] == "up"
            assert recovery < 5, f"recovered only after {recovery:.1f}s"
    finally:
        await asyncio.to_thread(server.stop)
