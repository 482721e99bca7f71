"""Delivers outbox chat notifications through the python-telegram-bot Bot (rate limiter included).

Services say what a message offers as intents (services.notifications: PayAgain, SearchAgain, PayNow); this
is the one place they become Telegram buttons, one per row, with the same callback data the handlers route
("*:pay:<booking>", "*:new:"). Rows queued before intents existed carry ready-made `buttons` (rows of
{text, callback | url}) and are still sent as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaDocument
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from core.i18n import _
from handlers.turn import callback_data
from services import chat_status
from services.mailer import Attachment
from services.notifications import ChatUndeliverable, PayAgain, PayNow, Rebook, RefundChoice, SearchAgain

log = logging.getLogger(__name__)


def intent_button(intent: dict[str, Any]) -> InlineKeyboardButton | None:
    """The button for one stored intent; None (logged) for a kind this version does not know."""
    kind = intent.get("kind")
    if kind == PayAgain.kind and intent.get("booking_id"):
        return InlineKeyboardButton(_("💳 Pay again"),
                                    callback_data=callback_data("*", "pay", str(intent["booking_id"])))
    if kind == SearchAgain.kind:
        return InlineKeyboardButton(_("🔎 Search again"), callback_data=callback_data("*", "new"))
    if kind == PayNow.kind and intent.get("url"):
        return InlineKeyboardButton(_("💳 Pay now"), url=str(intent["url"]))
    if kind == Rebook.kind and intent.get("booking_id") and intent.get("flight_id"):
        return InlineKeyboardButton(str(intent.get("label") or _("🔁 Rebook"))[:60], callback_data=callback_data(
            "*", "rbk", f"{intent['booking_id']}.{intent['flight_id']}"))
    if kind == RefundChoice.kind and intent.get("booking_id"):
        return InlineKeyboardButton(_("💷 Refund in full"),
                                    callback_data=callback_data("*", "rbr", str(intent["booking_id"])))
    log.warning("notification intent not understood, left out: %r", intent)
    return None


def keyboard(payload: dict[str, Any]) -> list[list[InlineKeyboardButton]]:
    """The inline keyboard of an outbox chat payload: its intents, or the old shape's ready-made buttons."""
    rows = [[button] for intent in payload.get("intents") or []
            if isinstance(intent, dict) and (button := intent_button(intent)) is not None]
    rows += [
        [InlineKeyboardButton(b["text"], url=b["url"]) if "url" in b
         else InlineKeyboardButton(b["text"], callback_data=b.get("callback", "*:nop:"))
         for b in row]
        for row in payload.get("buttons") or []  # rows queued before intents (kept until they are all sent)
    ]
    return rows


class TelegramChatSender:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_chat(self, payload: dict[str, Any]) -> None:
        chat_id = int(payload["chat_id"])
        rows = keyboard(payload)
        await self._guarded(chat_id, self.bot.send_message(
            chat_id, str(payload["text"]), parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(rows) if rows else None))

    async def send_documents(self, chat_id: int, files: Sequence[Attachment], caption: str) -> None:
        """The files as one album (sendMediaGroup: one request, shown together, and all or nothing — a retry
        never doubles half of them); a single file by sendDocument, as an album needs two to ten."""
        if len(files) == 1:
            only = files[0]
            await self._guarded(chat_id, self.bot.send_document(
                chat_id, only.content, filename=only.filename, caption=caption or None, parse_mode=ParseMode.HTML))
            return
        media = [InputMediaDocument(f.content, filename=f.filename, caption=caption if i == 0 and caption else None,
                                    parse_mode=ParseMode.HTML if i == 0 and caption else None)
                 for i, f in enumerate(files)]
        await self._guarded(chat_id, self.bot.send_media_group(chat_id, media))

    async def _guarded(self, chat_id: int, call: Coroutine[Any, Any, object]) -> None:
        """Run one send; a chat that will never take it (blocked, gone) is ChatUndeliverable, not retried."""
        if await chat_status.is_blocked(chat_id):
            call.close()
            raise ChatUndeliverable("the traveller has blocked the bot")
        try:
            await call
        except Forbidden as exc:  # blocked by the user: retrying forever would only annoy Telegram
            await chat_status.mark_blocked(chat_id)
            raise ChatUndeliverable(str(exc)) from None
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise ChatUndeliverable(str(exc)) from None
            raise
