"""Delivers outbox chat notifications through the python-telegram-bot Bot (rate limiter included)."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from services import chat_status
from services.notifications import ChatUndeliverable


class TelegramChatSender:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_chat(self, payload: dict[str, Any]) -> None:
        if await chat_status.is_blocked(int(payload["chat_id"])):
            raise ChatUndeliverable("the traveller has blocked the bot")
        rows = [
            [InlineKeyboardButton(b["text"], url=b["url"]) if "url" in b
             else InlineKeyboardButton(b["text"], callback_data=b.get("callback", "*:nop:"))
             for b in row]
            for row in payload.get("buttons") or []
        ]
        try:
            await self.bot.send_message(int(payload["chat_id"]), str(payload["text"]), parse_mode=ParseMode.HTML,
                                        reply_markup=InlineKeyboardMarkup(rows) if rows else None)
        except Forbidden as exc:  # blocked by the user: retrying forever would only annoy Telegram
            await chat_status.mark_blocked(int(payload["chat_id"]))
            raise ChatUndeliverable(str(exc)) from None
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise ChatUndeliverable(str(exc)) from None
            raise

