"""Blocked chats: Telegram answers 403 Forbidden once a user blocks the bot; stop sending until they return.

`mark_blocked` is called where a send raised `telegram.error.Forbidden` (the error handler, the
notification sender) and when Telegram reports the block itself (a `my_chat_member` update with
status "kicked"). Any new update from the user clears it: one can only write to a bot one has not
blocked. Writes are single conditional updates, so concurrent replicas agree without locks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from cachetools import TTLCache

from repos.chats import ChatStatusRepo
from services.metrics import CHATS_BLOCKED

log = logging.getLogger(__name__)
_chats = ChatStatusRepo()


def _now_ms() -> int:
    return int(time.time() * 1000)


async def mark_blocked(chat_id: int, *, now_ms: int | None = None) -> bool:
    """Record that `chat_id` blocked the bot; True if it was not marked blocked before."""
    newly = await _chats.mark_blocked(chat_id, _now_ms() if now_ms is None else now_ms)
    _recently_active.forget(chat_id)
    if newly:
        CHATS_BLOCKED.inc()
        log.info("chat %s blocked the bot; messages to it stop until the user writes again", chat_id)
    return newly


async def is_blocked(chat_id: int) -> bool:
    """True while the traveller has the bot blocked: don't send, don't retry."""
    return await _chats.is_blocked(chat_id)


async def mark_active(chat_id: int) -> bool:
    """The user wrote to the bot again: deliveries may resume. True if a block was cleared."""
    _recently_active.forget(chat_id)
    if await _chats.mark_active(chat_id):
        log.info("chat %s unblocked the bot", chat_id)
        return True
    return False


class _RecentlyActive:
    """Chats this process confirmed unblocked a moment ago, so not every update costs a database write.

    Safe to skip: unblocking the bot makes Telegram send `my_chat_member` (status "member"), which
    always calls `mark_active`; this per-update check is only the fallback. A block recorded by this
    process forgets the chat at once; one recorded by another replica is seen within RECHECK_SECONDS.
    A cachetools TTL cache: entries expire on `clock` (a test passes its own), and at MAX_CHATS the least
    recently seen chat makes room, so a flood of new chats cannot grow memory.
    """

    RECHECK_SECONDS = 300.0
    MAX_CHATS = 50_000

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_chats: int = MAX_CHATS) -> None:
        self._seen: TTLCache[int, bool, float] = TTLCache(max_chats, self.RECHECK_SECONDS, timer=clock)

    def fresh(self, chat_id: int) -> bool:
        return chat_id in self._seen

    def remember(self, chat_id: int) -> None:
        self._seen[chat_id] = True

    def forget(self, chat_id: int) -> None:
        self._seen.pop(chat_id, None)

    def __len__(self) -> int:
        return len(self._seen)


_recently_active = _RecentlyActive()


async def note_activity(chat_id: int) -> bool:
    """An update arrived from `chat_id`: clear a recorded block (at most one DB write per chat per 5 min)."""
    if _recently_active.fresh(chat_id):
        return False
    cleared = await mark_active(chat_id)
    _recently_active.remember(chat_id)
    return cleared
