"""Whether a chat still accepts messages from the bot (False once Telegram said the user blocked it)."""

from __future__ import annotations

from typing import ClassVar

from beanie import Document
from pymongo import ASCENDING, IndexModel


class ChatStatus(Document):
    """One per chat that ever blocked the bot; `blocked` goes back to False when the user writes again."""

    chat_id: int
    blocked: bool
    blocked_ms: int  # when it was last seen blocked (epoch ms)

    class Settings:
        name = "chat_status"
        indexes: ClassVar[list[IndexModel]] = [IndexModel([("chat_id", ASCENDING)], unique=True)]
