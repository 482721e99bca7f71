"""Runs the real FlyO (aiohttp app + python-telegram-bot Application) against loopback fakes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from beanie import init_beanie

from bot.db import free_port
from bot.runtime import create_web_app
from core.clock import Clock
from core.config import Settings
from core.database import Database
from models import ALL_DOCUMENTS
from services.context import Services
from tests.conftest import TEST_DATA_KEY
from tests.fakes.telegram import FakeTelegram
from webhooks.keys import SERVICES, TELEGRAM


@dataclass
class RunningBot:
    settings: Settings
    app: web.Application
    runner: web.AppRunner
    clock: Clock
    telegram: FakeTelegram

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.HTTP_PORT}"

    @property
    def application(self) -> Any:
        return self.app[TELEGRAM]


def make_settings(telegram: FakeTelegram, data_dir: Path, mongo_uri: str = "", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.api_root,
        "MONGODB_URI": mongo_uri or None, "DATA_DIR": data_dir, "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": free_port(),
        # As with the embedded database in production (tests share one server through MONGODB_URI, where the
        # cache would be off by default): every save still checks the revision.
        "CONVERSATION_CACHE_SIZE": 512, "SEAT_COUNT_CACHE": True,
        "DATA_ENCRYPTION_KEYS": TEST_DATA_KEY,  # None: the embedded database's own key file, as `make run` has
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running_bot(database: Database, telegram: FakeTelegram, data_dir: Path, *, clock: Clock | None = None,
                      share_database: bool = True, mongo_uri: str = "", **overrides: Any) -> AsyncIterator[RunningBot]:
    """Start FlyO exactly as `python -m bot` does (minus signals); stop it in order on exit."""
    overrides.setdefault("MONGODB_DB", database.db.name)
    settings = make_settings(telegram, data_dir, mongo_uri, **overrides)
    clock = clock or Clock()
    app = create_web_app(settings, clock=clock, seed=False, database=database if share_database else None)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.HTTP_PORT)
    await site.start()
    try:
        yield RunningBot(settings, app, runner, clock, telegram)
    finally:
        await runner.cleanup()
        if not share_database:  # the app's own client is closed: point the models back at the test database
            await init_beanie(database=database.db, document_models=ALL_DOCUMENTS)
