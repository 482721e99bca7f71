"""A /deleteme asked for and waiting for its "Yes": the card's buttons carry this document's id; one conditional
update (repos.one_time) lets one tap erase however often it is pressed."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from beanie import Document
from pymongo import ASCENDING, IndexModel


class EraseRequest(Document):
    user_id: int  # only they may confirm
    chat_id: int
    created_at: datetime
    expires_ms: int
    used_ms: int | None = None

    class Settings:
        name = "erase_requests"
        indexes: ClassVar[list[IndexModel]] = [IndexModel([("expires_ms", ASCENDING)])]
