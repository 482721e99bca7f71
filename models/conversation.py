"""Per-chat conversation state, read on every update so any process can continue any chat."""

from __future__ import annotations

from typing import Any

from beanie import Document
from pymongo import ASCENDING, IndexModel


class Conversation(Document):
    """Where a chat is in the booking flow.

    `flow` changes on every new search; buttons carry it, so a tap on an old message is recognised
    as stale instead of acting on the wrong draft. `rev` increments on every save (optimistic lock).
    """

    chat_id: int
    user_id: int
    step: str = "idle"
    flow: str = ""
    rev: int = 0
    draft: dict[str, Any] = {}
    updated_ms: int = 0

    class Settings:
        name = "conversations"
        indexes = [IndexModel([("chat_id", ASCENDING)], unique=True), IndexModel([("updated_ms", ASCENDING)])]
