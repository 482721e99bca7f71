"""Telegram updates received by webhook (issue #21): stored before Telegram is answered, so a crash between the
answer and the processing loses no tap, and a redelivered update (same `update_id`) is dropped."""

from __future__ import annotations

from typing import Any

from beanie import Document
from pymongo import ASCENDING, IndexModel


class TelegramUpdateRow(Document):
    update_id: int  # Telegram's, unique: a second delivery of the same update is refused by the index
    body: dict[str, Any]  # the Update as Telegram sent it
    received_ms: int
    claimed_ms: int  # when a process last took it to handle (on receipt; again by one recovering it)
    attempts: int = 1
    done: bool = False
    failed: bool = False  # given up after MAX_ATTEMPTS (a handler crashing the process each time)

    class Settings:
        name = "telegram_updates"
        indexes = [IndexModel([("update_id", ASCENDING)], unique=True),
                   IndexModel([("done", ASCENDING), ("claimed_ms", ASCENDING)])]
