"""Conversation state in MongoDB, read on every update and saved with a revision check.

python-telegram-bot's ConversationHandler keeps state in process memory; FlyO instead reads the
chat's document on every update, so a restart (even kill -9) or another replica continues the chat
at the same step. A save that finds another writer got there first raises `StaleConversation`.

The draft is stored as a plain dict and read into `models.conversation.Draft` here only (`read_draft`);
the caller writes it back with `keep_draft` before `save`.

A bounded cache of the conversations this process saved last (`cache_size`, 0 = off) spares the read of every
update. It is only a guess: every save is still conditional on the revision, so a cached copy that another
writer has moved past (another replica, the saved-travellers scrub) makes the save fail; the entry is dropped
and the router runs the turn again on a fresh read. Replies are sent only after a successful save, so a stale
guess is never shown. It is on in embedded mode (one FlyO per DATA_DIR, by its lock); with MONGODB_URI
(replicas) it is off, so a chat moving between replicas costs nothing but the read it always cost.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
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
    def __init__(self, clock: Clock, repo: ConversationRepo | None = None, *, cache_size: int = 0) -> None:
        self.clock = clock
        self.repo = repo or ConversationRepo()
        self.cache_size = cache_size
        self._cache: OrderedDict[int, Conversation] = OrderedDict()  # chat id → the state last saved here

    def _remember(self, conversation: Conversation) -> None:
        if self.cache_size <= 0:
            return
        self._cache[conversation.chat_id] = conversation.model_copy(deep=True)  # the caller goes on mutating its own
        self._cache.move_to_end(conversation.chat_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def forget(self, chat_id: int) -> None:
        """Drop the cached copy: the next load reads the database (after a stale save, or a write elsewhere)."""
        self._cache.pop(chat_id, None)

    async def load(self, chat_id: int, user_id: int) -> Conversation:
        cached = self._cache.get(chat_id)
        if cached is not None:
            self._cache.move_to_end(chat_id)
            copy: Conversation = cached.model_copy(deep=True)
            return copy
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
            "language": conversation.language, "locale": conversation.locale,
            "applied_updates": conversation.applied_updates, "last_turn": conversation.last_turn,
        }
        if not await self.repo.save(conversation, fields):
            self.forget(conversation.chat_id)
            raise StaleConversation(conversation.chat_id)
        conversation.rev += 1
        self._remember(conversation)

    @staticmethod
    def restart(conversation: Conversation, step: Step = Step.IDLE) -> None:
        conversation.step = step
        conversation.flow = new_flow_id()
        conversation.draft = {}
