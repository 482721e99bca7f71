"""Real `python -m bot` child processes for crash tests (kill -9, restart): started on the test's database and fakes,
with none of the developer's own service settings leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import REPO_ROOT, TEST_DATA_KEY

OURS = ("TELEGRAM_", "STRIPE_", "MONGODB_", "SENDGRID_", "TWILIO_", "FLIGHT_")


def start_flyo(telegram: Any, mongo_uri: str, db_name: str, data_dir: Path, port: int,
               **settings: str) -> subprocess.Popen[bytes]:
    """`python -m bot` against the fake Telegram and this database, on `port`, with these extra settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    env.update({"TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.api_root, "MONGODB_URI": mongo_uri,
                "MONGODB_DB": db_name, "DATA_DIR": str(data_dir), "HTTP_PORT": str(port), "LOG_LEVEL": "WARNING",
                "DATA_ENCRYPTION_KEYS": TEST_DATA_KEY, **settings})
    return subprocess.Popen([sys.executable, "-m", "bot"], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def healthy(url: str) -> bool:
    """Whether the FlyO at `url` answers /healthz (False while it is starting, or gone)."""
    try:
        async with aiohttp.ClientSession() as client, client.get(f"{url}/healthz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False
