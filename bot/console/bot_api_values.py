"""What the loopback Bot API keeps: users, chats, their messages, uploaded files, pending button presses."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.console.telegram_errors import JSON

Handler = Callable[[JSON], Awaitable[Any]]
MessageEvent = Literal["sent", "edited", "deleted"]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's limit for bots' uploads


@dataclass(frozen=True)
class User:
    """A Telegram user (not a bot), as clients attach it to messages and button presses."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"  # the client's language (IETF tag), sent with every update

    def as_json(self) -> JSON:
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part exactly as the bot uploaded it (filename and bytes are what users get)."""

    filename: str | None
    content: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class Document:
    """A document the bot sent; `content` is empty when the bot only passed a URL; `path` where it was kept."""

    file_id: str
    filename: str | None
    content: bytes
    mime_type: str | None = None
    path: Path | None = None


@dataclass
class StoredMessage:
    """The current state of one message in a chat (the bot's or the user's)."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    wire: JSON  # the Message object as Telegram reports it
    raw_text: str = ""  # what the bot sent, markup included (the caption for documents)
    parse_mode: str | None = None
    reply_markup: JSON | None = None  # as sent: reply keyboards too, which `wire` never shows
    document: Document | None = None
    edited: bool = False


@dataclass
class PendingCallback:
    """One button press, tracked until the bot answers it (exactly once, on a real client)."""

    query_id: str
    user_id: int
    chat_id: int
    data: str
    message_id: int
    answers: list[JSON] = field(default_factory=list)  # accepted answerCallbackQuery params
    rejected: int = 0  # answers refused because the query was already answered

    @property
    def answered(self) -> bool:
        return bool(self.answers)


class Signal:
    """A re-armable broadcast: waiters wake on the next `fire()` -- no polling loops, no lost wakeups.

    Waiters check their condition synchronously and then call `wait`, which captures the current event;
    since nothing can run between the check and the capture, a fire cannot be missed.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, within: float) -> None:
        """Until the next `fire()`, or `within` seconds."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), within)


class Chat:
    """A private chat (chat id == user id, as on Telegram): its messages by id."""

    def __init__(self, chat_id: int, first_name: str, last_name: str | None = None,
                 username: str | None = None) -> None:
        self.chat_id = chat_id
        self.wire: JSON = {"id": chat_id, "type": "private", "first_name": first_name}
        if last_name:
            self.wire["last_name"] = last_name
        if username:
            self.wire["username"] = username
        self.messages: dict[int, StoredMessage] = {}
        self._ids = itertools.count(1)
        # Real chat_instance values are opaque signed 64-bit ints sent as strings; stable per chat.
        self.chat_instance = str((chat_id * 2654435761 + 6390827724532247218) % (2**63) - 2**62)

    def next_message_id(self) -> int:
        return next(self._ids)
