"""Sending a turn's replies: redraw the pressed message when asked (and only if it changes), else send."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from core.i18n import _
from handlers.context import FlyOContext
from handlers.errors import COULD_NOT_SHOW
from handlers.shown import ShownMessages, html_content_key, shown_by
from handlers.turn import Turn

log = logging.getLogger(__name__)


async def deliver(context: FlyOContext, chat_id: int, turn: Turn, pressed: object) -> None:
    """Send the turn's replies; `edit` replies redraw the pressed message, unless it already shows them.

    A reply Telegram refuses (400: too long, bad markup…) is logged and replaced by one short apology,
    so the traveller is never left without an answer; the other replies still go out.
    """
    apologised = False
    message = pressed if isinstance(pressed, Message) else None
    shown = shown_by(context)
    for out in turn.replies:
        try:
            if (out.edit and message is not None
                    and (out.markup is None or isinstance(out.markup, InlineKeyboardMarkup))
                    and await _edit(shown, message, out.text, out.markup)):
                continue
            sent = await context.bot.send_message(chat_id, out.text, parse_mode=ParseMode.HTML,
                                                  reply_markup=out.markup)
            shown.remember(sent)
        except BadRequest:
            log.error("Telegram refused a reply in chat %s", chat_id, exc_info=True)
            if not apologised:
                apologised = True
                await _send_quietly(context, chat_id, _(COULD_NOT_SHOW))


async def _edit(shown: ShownMessages, pressed: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Redraw `pressed`; False when it cannot be edited (then the caller sends a new message instead)."""
    wanted = html_content_key(text, markup)
    if wanted is not None and wanted == shown.current(pressed):
        return True  # Telegram would answer 400 "message is not modified": nothing to do
    try:
        edited = await pressed.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            if wanted is not None:
                shown.confirm(pressed, wanted)
            return True
        if "too long" in str(exc).lower() or "can't parse" in str(exc).lower():
            raise  # a new message would be refused the same way
        log.info("edit failed (%s); sending a new message", exc)
        return False
    if isinstance(edited, Message):
        shown.remember(edited)
    return True


async def _send_quietly(context: FlyOContext, chat_id: int, text: str) -> None:
    try:
        await context.bot.send_message(chat_id, text)
    except TelegramError:
        log.warning("could not send even the short apology to chat %s", chat_id, exc_info=True)
