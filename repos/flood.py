"""Flood windows (`flood_windows`): each update is one conditional write that also answers the window."""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.flood_window import FloodWindow
from repos.base import collection


class FloodWindows:
    async def note(self, user_id: int, now: float, keep: int, idle_after: float) -> list[float]:
        """Add `now` to the user's update times, keeping the last `keep`; returns them (one round trip)."""
        for attempt in range(2):
            try:
                row = await collection(FloodWindow).find_one_and_update(
                    {"user_id": user_id},
                    {"$push": {"times": {"$each": [now], "$slice": -keep}}, "$set": {"idle_at": now + idle_after}},
                    upsert=True, return_document=ReturnDocument.AFTER, projection={"times": 1, "_id": 0})
            except DuplicateKeyError:
                # The user's first two updates reached two replicas at once and both inserted: the second
                # upsert finds the row the first made.
                if attempt:
                    raise
                continue
            return [float(t) for t in (row or {}).get("times", [])]
        raise AssertionError("unreachable")

    async def claim_notice(self, user_id: int, now: float, until: float) -> bool:
        """True for exactly one replica: the one that tells the user to slow down (at most once per window)."""
        # A new row has no warned_until (nx-27017 drops $setOnInsert beside $push), so "never" is a case of its own;
        # the filter is one `$or` of whole conditions (nx-27017 ignores fields beside `$or`: repos.seats).
        result = await collection(FloodWindow).update_one(
            {"$or": [{"user_id": user_id, "warned_until": {"$lte": now}},
                     {"user_id": user_id, "warned_until": {"$exists": False}}]},
            {"$set": {"warned_until": until}})
        return result.modified_count == 1

    async def forget_idle(self, now: float) -> int:
        """Drop the rows of users quiet for a whole window (the sweep's job: float times can't have a TTL index)."""
        result = await collection(FloodWindow).delete_many({"idle_at": {"$lt": now}})
        return result.deleted_count
