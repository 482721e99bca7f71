"""The Application's update processor in webhook mode (issue #21): handles updates as PTB's own does, then marks
each one done in the Telegram inbox (services.telegram_inbox), so the sweep knows which stored updates still need a
process to handle them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from pymongo.errors import PyMongoError
from telegram import Update
from telegram.ext import SimpleUpdateProcessor

from services.telegram_inbox import TelegramInbox

log = logging.getLogger(__name__)


class InboxUpdateProcessor(SimpleUpdateProcessor):
    def __init__(self, max_concurrent_updates: int, inbox: TelegramInbox) -> None:
        super().__init__(max_concurrent_updates)
        self.inbox = inbox

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine  # the handlers; their errors went to the error handler, as always
        if not isinstance(update, Update):
            return
        for attempt in range(3):  # not marked, the update would be handled again after its lease
            try:
                await self.inbox.finished(update.update_id)
                return
            except PyMongoError:
                if attempt == 2:
                    log.warning("could not mark telegram update %s done", update.update_id, exc_info=True)
