"""The one error handler: log with the traceback, tell the user something short and true."""

from __future__ import annotations

import logging

from pymongo.errors import PyMongoError
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from core.crypto import UnreadableData
from core.i18n import N_, _
from handlers.context import FlyOContext
from services import chat_status

log = logging.getLogger("flyo.errors")

SORRY = N_("😕 Something went wrong on our side. Your progress is saved — please try again, or send /help.")
COULD_NOT_SHOW = N_("Sorry, I couldn't show that — please try again or send /help.")
LOCKED = N_("🔒 Some of your details can't be read right now, so I can't show this. Nothing was changed or lost: "
            "the FlyO team has been alerted — please try again later.")


async def on_error(update: object, context: FlyOContext) -> None:
    error = context.error
    if isinstance(error, Forbidden):
        log.info("user blocked the bot: %s", error)
        if isinstance(update, Update) and update.effective_chat is not None:
            try:  # stop notifications to this chat until the user writes again
                await chat_status.mark_blocked(update.effective_chat.id)
            except PyMongoError:
                log.warning("could not record that chat %s blocked the bot", update.effective_chat.id)
        return
    if isinstance(error, BadRequest):
        # PTB derives BadRequest from NetworkError, but Telegram did answer: it refused what we sent (too
        # long, bad markup…). A short, plain reply will go through, and silence is the worst answer.
        log.error("Telegram refused a request while handling an update", exc_info=error)
        await _tell(update, context, _(COULD_NOT_SHOW))
        return
    if isinstance(error, UnreadableData):
        # A key missing from DATA_ENCRYPTION_KEYS (removed too early, or absent on this replica): an operator's
        # fix, and nothing to retry for the traveller. Nothing is shown half-read, and nothing was overwritten.
        log.error("personal data unreadable: %s", error)
        await _tell(update, context, _(LOCKED))
        return
    if isinstance(error, NetworkError):  # Telegram unreachable: replying would fail the same way
        log.warning("network error talking to Telegram: %s", error)
        return
    log.error("unhandled error while handling an update", exc_info=error)
    await _tell(update, context, _(SORRY))


async def _tell(update: object, context: FlyOContext, text: str) -> None:
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, text)
        except TelegramError:
            log.warning("could not tell the user about the error", exc_info=True)
