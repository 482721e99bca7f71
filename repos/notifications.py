"""Notification outbox (`notifications`): a row per side effect under a unique `key`, claimed before it is sent.

pending → sending (claimed by one process until `claimed_until_ms`) → sent | failed, or back to pending with a
later `next_attempt_ms`. Every move is a conditional update on the status it expects, so two replicas
delivering at once send each row once.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.ops import Notification, NotificationStatus
from repos.base import collection, insert_each_once


class NotificationRepo:
    async def count(self, status: NotificationStatus) -> int:
        """Outbox rows in one state (the (status, next_attempt_ms) index): the /metrics backlog."""
        return int(await collection(Notification).count_documents({"status": status.value}))

    async def enqueue_all(self, notes: Sequence[Notification]) -> int:
        """Queue each once per key, in one write; returns how many were new (a key that exists already — a
        replay — is skipped without stopping the others)."""
        return len(notes) - len(await insert_each_once(notes))

    async def reclaim_abandoned(self, now_ms: int) -> None:
        """Rows claimed by a process that died mid-send are pending again once their claim ran out."""
        await collection(Notification).update_many(
            {"status": NotificationStatus.SENDING, "claimed_until_ms": {"$lt": now_ms}},
            {"$set": {"status": NotificationStatus.PENDING}},
        )

    async def due(self, now_ms: int, limit: int) -> list[Notification]:
        """Pending rows due now, oldest due first; rows queued together in their order (the confirmation's words
        before its e-ticket): their ids ascend in the order of the insert."""
        return await Notification.find(
            {"status": NotificationStatus.PENDING, "next_attempt_ms": {"$lte": now_ms}}
        ).sort("+next_attempt_ms", "+_id").limit(limit).to_list()

    async def claim_notification(self, note: Notification, until_ms: int) -> bool:
        """pending → sending for this process until `until_ms`; False when another replica has it."""
        claimed = await collection(Notification).update_one(
            {"_id": note.id, "status": NotificationStatus.PENDING, "attempts": note.attempts},
            {"$set": {"status": NotificationStatus.SENDING, "claimed_until_ms": until_ms}},
        )
        return claimed.modified_count == 1

    async def finish(self, note: Notification, status: NotificationStatus, now_ms: int, error: str = "") -> None:
        """sending → sent, or → failed for good (`error` says why)."""
        await collection(Notification).update_one(
            {"_id": note.id, "status": NotificationStatus.SENDING},
            {"$set": {"status": status, "sent_ms": now_ms, "last_error": error}},
        )

    async def retry_later(self, note: Notification, *, attempts: int, error: str, next_attempt_ms: int | None) -> None:
        """sending → pending again at `next_attempt_ms`, or → failed when that is None (given up)."""
        fields: dict[str, object] = {"attempts": attempts, "last_error": error,
                                     "status": NotificationStatus.FAILED if next_attempt_ms is None
                                     else NotificationStatus.PENDING}
        if next_attempt_ms is not None:
            fields["next_attempt_ms"] = next_attempt_ms
        await collection(Notification).update_one({"_id": note.id, "status": NotificationStatus.SENDING},
                                                  {"$set": fields})
