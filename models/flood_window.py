"""One user's recent update times, shared by every replica (issue #21): flood control holds across replicas."""

from __future__ import annotations

from beanie import Document
from pymongo import ASCENDING, IndexModel


class FloodWindow(Document):
    user_id: int  # Telegram's; one row per user who sent something in the last window
    times: list[float] = []  # wall-clock seconds of the user's last FLOOD_MAX_UPDATES + 1 updates, oldest first
    warned_until: float = 0.0  # the "slow down" notice was sent; no second one before this time
    idle_at: float = 0.0  # the last update + the window: from then on the row says nothing and the sweep drops it

    class Settings:
        name = "flood_windows"
        indexes = [IndexModel([("user_id", ASCENDING)], unique=True), IndexModel([("idle_at", ASCENDING)])]
