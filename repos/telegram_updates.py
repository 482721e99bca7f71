"""The webhook's Telegram updates (`telegram_updates`): stored once per update_id, claimed with a lease."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from models.telegram_update import TelegramUpdateRow
from repos.base import collection


class TelegramUpdateRepo:
    async def insert(self, row: TelegramUpdateRow) -> bool:
        """False when this update_id was stored before (Telegram delivered it again, or two replicas got it)."""
        try:
            await row.insert()
        except DuplicateKeyError:
            return False
        return True

    async def finish(self, update_id: int) -> None:
        """Done: only the id is kept (for a day, to drop a redelivery); what the traveller typed — a birth date, a
        passport number — goes at once, in the same write."""
        await collection(TelegramUpdateRow).update_one({"update_id": update_id, "done": False},
                                                      {"$set": {"done": True, "body": {}}})

    async def renew(self, update_ids: list[int], now_ms: int) -> int:
        """The leases of updates a live process holds start again (those done meanwhile are left alone)."""
        result = await collection(TelegramUpdateRow).update_many(
            {"update_id": {"$in": update_ids}, "done": False}, {"$set": {"claimed_ms": now_ms}})
        return result.modified_count

    async def stale(self, claimed_before_ms: int, limit: int) -> list[TelegramUpdateRow]:
        """Updates not done whose claim is older than the lease: their process died before handling them."""
        return await TelegramUpdateRow.find({"done": False, "claimed_ms": {"$lt": claimed_before_ms}}).sort(
            "update_id").limit(limit).to_list()

    async def reclaim(self, row: TelegramUpdateRow, now_ms: int) -> bool:
        """Take over a stale update; only one process wins (the claim it saw must be unchanged)."""
        result = await collection(TelegramUpdateRow).update_one(
            {"_id": row.id, "claimed_ms": row.claimed_ms, "done": False},
            {"$set": {"claimed_ms": now_ms}, "$inc": {"attempts": 1}})
        return result.modified_count == 1

    async def give_up(self, row: TelegramUpdateRow) -> None:
        await collection(TelegramUpdateRow).update_one({"_id": row.id}, {"$set": {"done": True, "failed": True}})

    async def forget_done(self, received_before_ms: int) -> int:
        result = await collection(TelegramUpdateRow).delete_many({"done": True,
                                                                  "received_ms": {"$lt": received_before_ms}})
        return result.deleted_count
