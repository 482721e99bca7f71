"""Blocked chats (`chat_status`): one document per chat that ever blocked the bot."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from models.chat_status import ChatStatus
from repos.base import collection


class ChatStatusRepo:
    async def mark_blocked(self, chat_id: int, now_ms: int) -> bool:
        """Record the block; True only for the write that turned an open chat (or an unknown one) blocked.

        Two conditional writes so "newly blocked" is exact: flip an unblocked record, else upsert.
        """
        fields = {"$set": {"blocked": True, "blocked_ms": now_ms}}
        flipped = await collection(ChatStatus).update_one({"chat_id": chat_id, "blocked": False}, fields)
        if flipped.modified_count == 1:
            return True
        try:
            upserted = await collection(ChatStatus).update_one({"chat_id": chat_id}, fields, upsert=True)
        except DuplicateKeyError:  # another replica inserted it a moment ago: it is blocked now
            return False
        return upserted.upserted_id is not None

    async def is_blocked(self, chat_id: int) -> bool:
        doc = await collection(ChatStatus).find_one({"chat_id": chat_id, "blocked": True}, {"_id": 1})
        return doc is not None

    async def mark_active(self, chat_id: int) -> bool:
        """True if a recorded block was cleared."""
        result = await collection(ChatStatus).update_one(
            {"chat_id": chat_id, "blocked": True}, {"$set": {"blocked": False}}
        )
        return result.modified_count == 1
