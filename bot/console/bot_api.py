"""A small Bot API server on 127.0.0.1: the console's stand-in for api.telegram.org.

FlyO's python-telegram-bot Application talks to it exactly as to Telegram (same URLs, form-encoded
bodies with JSON inside, the same error envelope, limits and error texts), so the console exercises the
production code path. The Bot API itself — request parsing, the chat and message store, the methods and
Telegram's rules — is `bot.console.bot_api_core`, which the tests' fake Telegram builds on too. This
module adds what the terminal needs: one private chat (the person at the terminal), what the bot does to
it as `ChatEvent`s for the renderer, uploads kept as files the person can open, and a listener.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar, Literal

from aiohttp import web

from bot.console.bot_api_core import BotApiCore
from bot.console.bot_api_values import Chat, Document, MessageEvent, PendingCallback, StoredMessage, User
from bot.console.telegram_errors import JSON

BOT_ID = 7000000
ConsoleUser = User  # the person at the terminal: ConsoleUser(id, first_name)


@dataclass
class ChatMessage:
    """A bot message as last sent or edited; `markup` is the reply_markup JSON as the bot sent it."""

    message_id: int
    text: str
    parse_mode: str | None
    markup: JSON | None
    date: int
    edited: bool = False
    document: Path | None = None


@dataclass(frozen=True)
class ChatEvent:
    kind: Literal["sent", "edited", "deleted", "notice"]
    message: ChatMessage | None = None
    text: str = ""
    alert: bool = False


class LocalBotApi(BotApiCore):
    """The Bot API for one console chat; `events` is what the terminal renders."""

    # The terminal has no spinner to stop: a notice for a press it did not send is still shown.
    accept_unknown_callbacks: ClassVar[bool] = True

    def __init__(self, user: User, files_dir: Path) -> None:
        # Random per run: the server is on loopback, but other local users must not read the chat.
        super().__init__(f"{BOT_ID}:{secrets.token_urlsafe(24)}", bot_first_name="FlyO",
                         bot_username="flyo_console_bot")
        self.user = user
        self.files_dir = files_dir
        self.events: asyncio.Queue[ChatEvent] = asyncio.Queue()
        self.messages: dict[int, ChatMessage] = {}  # the bot's messages still in the chat, as last shown
        self._chat = self.open_chat(user)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle --------------------------------------------------------------------------------
    @property
    def root(self) -> str:
        """The TELEGRAM_API_URL for FlyO: requests go to {root}/bot{token}/{method}."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def commands(self) -> list[JSON]:
        """The menu FlyO set with setMyCommands (default scope)."""
        return self.commands_for()

    async def start(self) -> None:
        self._closing = False
        # shutdown_timeout: close() has already released every long poll, nothing worth waiting for
        self._runner = web.AppRunner(self._build_app(), handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        self._release_polls()  # a getUpdates long poll in flight returns at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- the person at the terminal ---------------------------------------------------------------
    def send_text(self, text: str) -> None:
        self.user_sends_text(self._chat, self.user, text)

    def share_contact(self, phone: str) -> None:
        contact = {"phone_number": phone, "first_name": self.user.first_name, "user_id": self.user.id}
        self.user_shares_contact(self._chat, self.user, contact)

    def tap(self, message_id: int, data: str) -> None:
        self.user_presses(self._chat, self.user, data, message_id)

    # ---- what the bot does, for the renderer ------------------------------------------------------
    def _on_message(self, chat: Chat, stored: StoredMessage, event: MessageEvent) -> None:
        if event == "deleted":
            shown = self.messages.pop(stored.message_id, None) or self._shown(stored)
        else:
            shown = self.messages[stored.message_id] = self._shown(stored)
        # a snapshot: the renderer shows the message as it was at this event
        self.events.put_nowait(ChatEvent(event, replace(shown)))

    @staticmethod
    def _shown(stored: StoredMessage) -> ChatMessage:
        path = stored.document.path if stored.document is not None else None
        return ChatMessage(stored.message_id, stored.raw_text, stored.parse_mode, stored.reply_markup, stored.date,
                           edited=stored.edited, document=path)

    def _on_callback_answer(self, pending: PendingCallback | None, params: JSON) -> None:
        text = str(params.get("text") or "")
        if text:
            alert = params.get("show_alert") in (True, "true", "1", 1)
            self.events.put_nowait(ChatEvent("notice", text=text, alert=alert))

    def _store_upload(self, document: Document) -> Document:
        """An upload (an e-ticket…) is kept where the person can open it."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(document.filename or "").name) or "file"
        path = self.files_dir / f"{int(time.time())}-{name}"
        path.write_bytes(document.content)
        return replace(document, path=path)
