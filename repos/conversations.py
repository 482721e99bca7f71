"""Conversation state (`conversations`): one document per chat, saved with an optimistic revision check."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from models.conversation import Conversation
from repos.base import collection


class ConversationRepo:
    async def get(self, chat_id: int) -> Conversation | None:
        return await Conversation.find_one(Conversation.chat_id == chat_id)

    async def create(self, conversation: Conversation) -> bool:
        """False when another process created the chat's document a moment ago (unique `chat_id`)."""
        try:
            await conversation.insert()
        except DuplicateKeyError:
            return False
        return True

    async def save(self, conversation: Conversation, fields: dict[str, Any]) -> bool:
        """Write `fields` if nobody saved the chat since it was read (`rev` unchanged); False otherwise."""
        result = await collection(Conversation).update_one(
            {"_id": conversation.id, "rev": conversation.rev}, {"$set": fields}
        )
        return result.matched_count == 1
