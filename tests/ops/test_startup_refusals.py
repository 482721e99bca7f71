"""`python -m bot` refuses a configuration that would run but misbehave, in one line and before anything starts;
and a token Telegram rejects is never printed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from bot.db import free_port
from core.config import Settings
from core.crypto import generate_key, parse_keys
from core.database import Database
from tests.conftest import REPO_ROOT, TEST_DATA_KEY


def _run_flyo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=REPO_ROOT, env=clean | env, capture_output=True,
                          text=True, timeout=60)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_demo_payments_with_a_real_bot_token_exits_2_naming_demo_payments(tmp_path: Path) -> None:
    token = "123456:AAH-real-looking-token"
    result = _run_flyo({"TELEGRAM_BOT_TOKEN": token, "DEMO_PAYMENTS": "1", "DATA_DIR": str(tmp_path)})
    line = _one_line(result)
    assert "DEMO_PAYMENTS" in line and token not in line
    assert not (tmp_path / "mongo").exists()  # refused before the database started


def test_stripe_key_without_webhook_secret_exits_2_naming_the_secret(tmp_path: Path) -> None:
    result = _run_flyo({"TELEGRAM_BOT_TOKEN": "123456:AAH-token", "STRIPE_SECRET_KEY": "sk_test_51abc",
                        "DATA_DIR": str(tmp_path)})
    line = _one_line(result)
    assert "STRIPE_WEBHOOK_SECRET" in line and "sk_test_51abc" not in line


def test_mongodb_uri_without_a_data_key_exits_2_saying_how_to_make_one(tmp_path: Path) -> None:
    """Replicas share the database: each making a key of its own would leave each unable to read the others'."""
    env = {"TELEGRAM_BOT_TOKEN": "123456:AAH-token", "MONGODB_URI": "mongodb://127.0.0.1:9/", "DATA_DIR": str(tmp_path)}
    for command in ([], ["rotate-keys"]):
        result = _run_flyo(env, *command)
        line = _one_line(result)
        assert "DATA_ENCRYPTION_KEYS is not set" in line and "python -m bot new-key" in line, line
    assert not (tmp_path / "data-encryption.key").exists() and not (tmp_path / "mongo").exists()  # nothing started


def test_a_malformed_data_key_exits_2_without_showing_the_keys(tmp_path: Path) -> None:
    good, bad = generate_key(), "c2hvcnQ-a2V5"
    result = _run_flyo({"TELEGRAM_BOT_TOKEN": "123456:AAH-token", "DATA_ENCRYPTION_KEYS": f"{good},{bad}",
                        "DATA_DIR": str(tmp_path)})
    line = _one_line(result)
    assert line.startswith("flyo: Invalid setting DATA_ENCRYPTION_KEYS: key 2 of DATA_ENCRYPTION_KEYS is not 32 bytes")
    assert good not in line and bad not in line
    assert not list(tmp_path.iterdir())
    made = subprocess.run([sys.executable, "-m", "bot", "new-key"], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60, env=os.environ | {"DATA_ENCRYPTION_KEYS": bad})
    assert made.returncode == 0 and parse_keys(made.stdout.strip())  # the hint works even while the key is bad


async def test_a_token_telegram_rejects_is_not_printed(telegram: Any, inventory_db: Database, mongo_uri: str,
                                                        tmp_path: Path) -> None:
    """PTB's InvalidToken says "The token `…` was rejected": FlyO prints that line without the token."""
    token = "987654:flyo-test-token-that-telegram-rejects"  # short enough to slip past the log redaction regex
    assert token != telegram.token  # the fake Bot API answers 401 Unauthorized for any other token
    db_name = f"flyo_reject_{uuid.uuid4().hex[:8]}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    try:  # one local flight: FlyO sees an inventory and does not spend 20 s seeding one
        flight = await inventory_db.db["flights"].find_one({"source": "local"})
        assert flight is not None
        await client[db_name]["flights"].insert_one(flight)
        env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields} | {
            "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_URL": telegram.api_root, "MONGODB_URI": mongo_uri,
            "MONGODB_DB": db_name, "DATA_DIR": str(tmp_path), "HTTP_PORT": str(free_port()),
            "DATA_ENCRYPTION_KEYS": TEST_DATA_KEY,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=REPO_ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 90)
    finally:
        await client.drop_database(db_name)
        await client.close()
    out, err = stdout.decode(errors="replace"), stderr.decode(errors="replace")
    assert process.returncode == 1, (out, err)
    assert any(c.description == "Unauthorized" for c in telegram.calls_of("getMe")), (out, err)
    assert "rejected" in err and "Traceback" not in err
    logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*")) \
        if (tmp_path / "logs").is_dir() else ""
    for where, text in (("stdout", out), ("stderr", err), ("logs", logs)):
        assert token not in text and token.split(":", 1)[1] not in text, f"the token leaked into {where}"
