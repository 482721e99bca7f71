"""Conversation state (`conversations`): one document per chat, saved with an optimistic revision check."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from models.conversation import Conversation
from models.sealed import seal_draft
from repos.base import collection


class ConversationRepo:
    async def get(self, chat_id: int) -> Conversation | None:
        return await Conversation.find_one(Conversation.chat_id == chat_id)

    async def create(self, conversation: Conversation) -> bool:
        """False when another process created the chat's document a moment ago (unique `chat_id`)."""
        stored = conversation.model_copy(update={"draft": seal_draft(conversation.draft)})
        try:
            await stored.insert()
        except DuplicateKeyError:
            return False
        conversation.id = stored.id
        return True

    async def save(self, conversation: Conversation, fields: dict[str, Any]) -> bool:
        """Write `fields` if nobody saved the chat since it was read (`rev` unchanged); False otherwise. A draft
        is stored with its birth dates and documents encrypted (models.sealed)."""
        if "draft" in fields:
            fields = {**fields, "draft": seal_draft(fields["draft"])}
        result = await collection(Conversation).update_one(
            {"_id": conversation.id, "rev": conversation.rev}, {"$set": fields}
        )
        return result.matched_count == 1

    async def delete_for_user(self, user_id: int) -> list[int]:
        """Every conversation of the user gone (/deleteme); the chats they were (for the caches)."""
        chats = [doc["chat_id"] async for doc in collection(Conversation).find({"user_id": user_id}, {"chat_id": 1})]
        if chats:
            await collection(Conversation).delete_many({"user_id": user_id})
        return chats
