"""The database layer: embedded server lifecycle, persistence across kill, one owner per DATA_DIR."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from bot.db import DatabaseError, EmbeddedMongo, open_database
from core.database import Database
from models import Airport


def _airport(code: str) -> Airport:
    return Airport(iata=code, name=f"{code} airport", city="Testville", country="GB", tz="Europe/London",
                   lat=0.0, lon=0.0)


async def test_clean_database_fixture_starts_empty(db: Database) -> None:
    assert await Airport.count() == 0
    await _airport("LHR").insert()
    assert await Airport.find_one(Airport.iata == "LHR") is not None


async def test_killed_embedded_server_keeps_data_across_restart(tmp_path: Path) -> None:
    server = EmbeddedMongo(tmp_path)
    server.start()
    try:
        database = await open_database(server.uri, "flyo", tmp_path, init_models=False)
        await database.db["airports"].insert_one({"iata": "JFK", "city": "New York"})
        await database.client.close()
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)  # a crash, not a clean stop
        server.process.wait(timeout=10)
    finally:
        server.stop()

    again = await open_database("", "flyo", tmp_path, init_models=False)
    try:
        assert again.embedded is not None
        found = await again.db["airports"].find_one({"iata": "JFK"})
        assert found is not None and found["city"] == "New York"
    finally:
        await again.close()


async def test_second_process_on_same_data_dir_is_refused_with_a_reason(tmp_path: Path) -> None:
    first = await open_database("", "flyo", tmp_path, init_models=False)
    try:
        with pytest.raises(DatabaseError, match="in use by FlyO"):
            await open_database("", "flyo", tmp_path, init_models=False)
    finally:
        await first.close()
    # once the first stops, the directory is free again
    second = await open_database("", "flyo", tmp_path, init_models=False)
    await second.close()


async def test_unreachable_mongodb_uri_is_one_clear_line(tmp_path: Path) -> None:
    from bot.db import free_port

    uri = f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
    with pytest.raises(DatabaseError, match="Cannot reach MongoDB at MONGODB_URI") as info:
        await open_database(uri, "flyo", tmp_path)
    assert "\n" not in str(info.value)
