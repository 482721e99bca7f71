"""Conversation state in MongoDB, read on every update and saved with a revision check.

python-telegram-bot's ConversationHandler keeps state in process memory; FlyO instead reads the
chat's document on every update, so a restart (even kill -9) or another replica continues the chat
at the same step. A save that finds another writer got there first raises `StaleConversation`.

The draft is stored as a plain dict and read into `models.conversation.Draft` here only (`read_draft`);
the caller writes it back with `keep_draft` before `save`.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from pydantic import ValidationError

from core.clock import Clock
from models.conversation import Conversation, Draft, Step
from repos.conversations import ConversationRepo

log = logging.getLogger(__name__)


class StaleConversation(Exception):
    """Another process saved this chat's state since we read it."""


def new_flow_id() -> str:
    return secrets.token_hex(2)  # 4 hex chars: enough to tell this search from the previous ones


class ConversationStore:
    def __init__(self, clock: Clock, repo: ConversationRepo | None = None) -> None:
        self.clock = clock
        self.repo = repo or ConversationRepo()

    async def load(self, chat_id: int, user_id: int) -> Conversation:
        found = await self.repo.get(chat_id)
        if found is not None:
            return found
        fresh = Conversation(chat_id=chat_id, user_id=user_id, flow=new_flow_id(), updated_ms=self.clock.now_ms())
        if not await self.repo.create(fresh):  # another process created it a moment ago
            again = await self.repo.get(chat_id)
            assert again is not None
            return again
        return fresh

    @staticmethod
    def read_draft(conversation: Conversation) -> Draft | None:
        """The conversation's draft; None when it cannot be read (written by an incompatible version)."""
        try:
            return Draft.model_validate(conversation.draft)
        except ValidationError as exc:
            log.warning("unreadable draft in chat %s (step %s): %s", conversation.chat_id, conversation.step,
                        exc.errors(include_url=False, include_input=False))
            return None

    @staticmethod
    def keep_draft(conversation: Conversation, draft: Draft) -> None:
        conversation.draft = draft.dump()

    async def save(self, conversation: Conversation) -> None:
        fields: dict[str, Any] = {
            "step": conversation.step.value, "flow": conversation.flow, "draft": conversation.draft,
            "rev": conversation.rev + 1, "updated_ms": self.clock.now_ms(), "user_id": conversation.user_id,
        }
        if not await self.repo.save(conversation, fields):
            raise StaleConversation(conversation.chat_id)
        conversation.rev += 1

    @staticmethod
    def restart(conversation: Conversation, step: Step = Step.IDLE) -> None:
        conversation.step = step
        conversation.flow = new_flow_id()
        conversation.draft = {}
