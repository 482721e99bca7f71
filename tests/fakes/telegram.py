"""Loopback fake of the Telegram Bot API, for FlyO's end-to-end tests.

Why a fake server instead of mocking ``telegram.Bot``: FlyO talks to Telegram through the *real*
python-telegram-bot stack (HTTP client, request encoding, error mapping, polling / webhook plumbing).
Mocking the Bot object would skip exactly the layers that break in production -- form encoding, 64-byte
callback data, "message is not modified", flood control, blocked users.  This module serves the Bot API
over HTTP on 127.0.0.1 so the bot under test runs unmodified with ``TELEGRAM_API_URL`` pointed at it,
and it plays the *user's* side of the conversation through :class:`Traveller` objects.

Behaviour follows ``fixtures/telegram/bot-api/fake_server_contract.md`` (PTB 22.8 sends
``application/x-www-form-urlencoded`` with JSON-encoded nested values, multipart for uploads, and an
empty body for parameterless calls; errors are ``{"ok": false, ...}`` with HTTP status == error_code,
because PTB picks the exception class from the status).  Error descriptions are the real ones quoted in
``errors.real.json`` where one exists; the tail of "can't parse entities" messages is an approximation.

Fidelity notes (deliberate, because each one hides a class of production bugs if faked loosely):

* The Message objects returned to the bot carry the *parsed* text plus ``entities`` -- exactly like
  Telegram -- so ``message.text`` never contains HTML tags.  :class:`BotMessage` keeps the raw text the
  bot sent (``text``) and offers :meth:`BotMessage.plain_text` for what the user sees.
* HTML / MarkdownV2 / Markdown are validated: an unescaped ``<`` or ``.`` fails like it does for real.
* ``editMessageText`` without ``reply_markup`` removes the inline keyboard (real behaviour).
* Only inline keyboards are echoed in ``Message.reply_markup`` (reply keyboards never are).
* Sending to a chat nobody opened fails with "chat not found" unless ``strict_chats=False``.
* Every callback query is tracked until it is answered; a second answer is refused like Telegram does,
  and :meth:`FakeTelegram.unanswered_callbacks` lists the presses whose client would still be spinning
  (the shared ``telegram`` fixture fails a test that leaves one).
* Limits: 4096 characters of *parsed* text, 64 bytes of callback_data, 100 inline buttons; only
  Telegram's HTML tags; an edit that changes neither content nor keyboard is "message is not modified".
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import mimetypes
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from ._server import LoopbackServer

__all__ = [
    "BotMessage",
    "Button",
    "Call",
    "CallbackQueryRecord",
    "Document",
    "FakeTelegram",
    "Traveller",
    "UploadedFile",
    "WebhookDelivery",
]

JSON = dict[str, Any]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Form values PTB sends verbatim (not JSON-encoded).  Everything else is JSON-decoded when possible,
# which turns "1111111" into 1111111, "true" into True and '{"inline_keyboard": ...}' into a dict.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "file_id",
    }
)
# Parameters that may carry a file: a file_id / URL string stays a string.
_FILE_PARAMS = frozenset({"document", "photo", "audio", "video", "voice", "thumbnail", "certificate"})
# Nested objects some (non-PTB) clients still JSON-encode inside an application/json body.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
    }
)

_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
        "web_app",
        "copy_text",
    }
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# getUpdates / webhooks deliver these when allowed_updates is empty (Bot API docs).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
ERR_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
ERR_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
ERR_BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
ERR_TOO_LONG = "Bad Request: message is too long"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
ERR_TEXT_EMPTY = "Bad Request: message text is empty"
ERR_BLOCKED = "Forbidden: bot was blocked by the user"
ERR_CHAT_NOT_FOUND = "Bad Request: chat not found"
ERR_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
ERR_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)


# --------------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One request the bot made; tests assert on these instead of patching the Bot object."""

    method: str
    params: dict[str, Any]
    time: float
    error_code: int | None = None
    description: str | None = None
    result: Any = None


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part exactly as the bot uploaded it (filename and bytes are what users get)."""

    filename: str | None
    content: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class Document:
    """A document the bot sent; ``content`` is empty when the bot only passed a URL."""

    file_id: str
    filename: str | None
    content: bytes
    mime_type: str | None = None


@dataclass(frozen=True)
class Button:
    """An inline keyboard button as the traveller sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class CallbackQueryRecord:
    """One button press and what the bot did about it: ``answers`` must end at exactly 1."""

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answers: int
    rejected_answers: int
    answer_texts: list[str | None]


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook POST attempt, kept so tests can see rejected deliveries (e.g. bad secret)."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    attempt: int


@dataclass(frozen=True)
class BotMessage:
    """Snapshot of a bot message as the traveller sees it (at the time of an event, or now).

    ``text`` is what the bot sent (HTML/Markdown markup included; the caption for documents);
    :meth:`plain_text` is what is displayed.  ``raw`` is the Message object as Telegram reports it.
    """

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    buttons: list[list[Button]] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    requests_contact: bool = False
    remove_keyboard: bool = False
    force_reply: bool = False
    document: Document | None = None
    edited: bool = False
    date: int = 0
    raw: JSON = field(default_factory=dict, repr=False)

    def button_labels(self) -> list[str]:
        """All inline button labels, row by row, for readable assertions."""
        return [button.text for row in self.buttons for button in row]

    def find_button(self, label: str) -> Button:
        """Exact label first, then case-insensitive substring, so tests survive emoji/prefix tweaks."""
        flat = [button for row in self.buttons for button in row]
        for button in flat:
            if button.text == label:
                return button
        needle = label.casefold()
        matches = [button for button in flat if needle in button.text.casefold()]
        if matches:
            return matches[0]
        raise AssertionError(
            f"no button {label!r} on message {self.message_id} in chat {self.chat_id}; "
            f"buttons: {self.button_labels()!r}; text: {self.plain_text()[:200]!r}"
        )

    def plain_text(self) -> str:
        """The text as displayed: markup removed and HTML entities / Markdown escapes resolved."""
        try:
            plain, _ = _parse_text(self.text, self.parse_mode)
        except _ApiError:
            plain = html.unescape(re.sub(r"<[^>]*>", "", self.text))
        return plain

    @property
    def has_inline_keyboard(self) -> bool:
        """Whether there is anything to press."""
        return any(self.buttons)


# --------------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------------


class _ApiError(Exception):
    """A Bot API error reply; raised inside method handlers and turned into the JSON envelope."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


class _Signal:
    """A re-armable broadcast: waiters wake on the next ``fire()`` -- no polling loops, no lost wakeups.

    Waiters check their condition synchronously and then call :meth:`wait`, which captures the current
    event; since nothing can run between the check and the capture, a fire cannot be missed.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


@dataclass
class _Fault:
    code: int
    description: str
    retry_after: int | None
    remaining: int

    def error(self) -> _ApiError:
        params: JSON | None = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return _ApiError(self.code, self.description, params)


@dataclass
class _StoredMessage:
    """Current server-side state of one message (bot's or user's)."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    wire: JSON
    raw_text: str = ""
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    document: Document | None = None
    edited: bool = False


@dataclass
class _PendingCallback:
    traveller: Traveller
    query_id: str
    data: str
    message_id: int
    answers: list[JSON] = field(default_factory=list)  # accepted answerCallbackQuery params
    rejected: int = 0  # answers refused because the query was already answered

    @property
    def answered(self) -> bool:
        return bool(self.answers)

    def record(self) -> CallbackQueryRecord:
        return CallbackQueryRecord(
            query_id=self.query_id,
            user_id=self.traveller.user_id,
            chat_id=self.traveller.chat_id,
            message_id=self.message_id,
            data=self.data,
            answers=len(self.answers),
            rejected_answers=self.rejected,
            answer_texts=[answer.get("text") for answer in self.answers],
        )


class _Chat:
    """A private chat: messages by id, the bot-side event log travellers read, and a wakeup signal."""

    def __init__(self, chat_id: int, first_name: str, last_name: str | None, username: str | None) -> None:
        self.chat_id = chat_id
        self.wire: JSON = {"id": chat_id, "type": "private", "first_name": first_name}
        if last_name:
            self.wire["last_name"] = last_name
        if username:
            self.wire["username"] = username
        self.messages: dict[int, _StoredMessage] = {}
        self.events: list[BotMessage] = []
        self.signal = _Signal()
        self._ids = itertools.count(1)
        # Real chat_instance values are opaque signed 64-bit ints sent as strings; stable per chat.
        self.chat_instance = str((chat_id * 2654435761 + 6390827724532247218) % (2**63) - 2**62)

    def next_message_id(self) -> int:
        return next(self._ids)


def _u16len(text: str) -> int:
    """Telegram counts offsets/lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# ---- text formatting (HTML / MarkdownV2 / Markdown) ------------------------------------------------

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_HTML_ATTR = re.compile(r"\s*([A-Za-z_-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_HTML_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);")
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}
_MDV2_TYPES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


class _TextBuilder:
    """Accumulates displayed text and entities with UTF-16 offsets, like Telegram computes them."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[JSON] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.offset += _u16len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.offset > start:
            self.entities.append({"type": kind, "offset": start, "length": self.offset - start, **extra})

    def result(self) -> tuple[str, list[JSON]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


def _parse_html(text: str) -> tuple[str, list[JSON]]:
    """Telegram's HTML subset: unknown tags, bad nesting and bare ``<`` are rejected like the real API."""
    out = _TextBuilder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    attrs: dict[str, str]
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "<" and i + 1 < n and text[i + 1] == "/":
            end = text.find(">", i + 2)
            if end == -1:
                raise _bad(f"can't parse entities: Unclosed end tag at byte offset {_byte_offset(text, i)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise _bad(f"can't parse entities: Unexpected end tag at byte offset {_byte_offset(text, i)}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise _bad(
                    f"can't parse entities: Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                    f'expected "</{tag}>", found "</{name}>"'
                )
            _close_html_entity(out, tag, start, attrs, stack)
            i = end + 1
        elif char == "<":
            match = _HTML_TAG_NAME.match(text, i + 1)
            name = match.group().lower() if match else ""
            if name not in _HTML_ENTITY_TYPES:
                raise _bad(
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset '
                    f"{_byte_offset(text, i)}"
                )
            j = match.end() if match else i + 1
            attrs = {}
            while True:
                while j < n and text[j].isspace():
                    j += 1
                if j < n and text[j] == ">":
                    break
                attr = _HTML_ATTR.match(text, j)
                if j >= n or attr is None or attr.end() == j:
                    raise _bad(
                        f"can't parse entities: Unclosed start tag at byte offset {_byte_offset(text, i)}"
                    )
                value = attr.group(2) or ""
                if value[:1] in {'"', "'"}:
                    value = value[1:-1]
                attrs[attr.group(1).lower()] = html.unescape(value)
                j = attr.end()
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _bad(
                    f'can\'t parse entities: Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, i)}"
                )
            stack.append((name, out.offset, attrs))
            i = j + 1
        elif char == "&":
            entity = _HTML_ENTITY.match(text, i)
            if entity:
                out.add(html.unescape(entity.group()))
                i = entity.end()
            else:
                out.add("&")
                i += 1
        else:
            out.add(char)
            i += 1
    if stack:
        raise _bad(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    return out.result()


def _close_html_entity(
    out: _TextBuilder,
    tag: str,
    start: int,
    attrs: dict[str, str],
    stack: list[tuple[str, int, dict[str, str]]],
) -> None:
    kind = _HTML_ENTITY_TYPES[tag]
    if tag == "a":
        href = attrs.get("href")
        if href:
            out.entity("text_link", start, url=href)
    elif tag == "code" and stack and stack[-1][0] == "pre":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
        else:
            out.entity("code", start)
    elif tag == "pre":
        extra = {"language": attrs["language"]} if attrs.get("language") else {}
        out.entity("pre", start, **extra)
    elif tag == "blockquote":
        out.entity("expandable_blockquote" if "expandable" in attrs else "blockquote", start)
    elif tag == "tg-emoji":
        out.entity("custom_emoji", start, custom_emoji_id=attrs.get("emoji-id", ""))
    else:
        out.entity(kind, start)


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _unescape_md(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    """MarkdownV2 with its reserved characters -- the classic "Character '.' is reserved" failure."""
    out = _TextBuilder()
    stack: list[tuple[str, int, int]] = []  # marker, start offset (utf-16), source index
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) < 127:
                out.add(text[i + 1])
                i += 2
            else:
                out.add("\\")
                i += 1
        elif text.startswith("```", i):
            end = _find_unescaped(text, "```", i + 3)
            if end == -1:
                offset = _byte_offset(text, i)
                raise _bad(f"can't parse entities: Can't find end of Pre entity at byte offset {offset}")
            body = text[i + 3 : end]
            language = ""
            first_line, newline, rest = body.partition("\n")
            if newline and first_line and not any(c.isspace() for c in first_line):
                language, body = first_line, rest
            start = out.offset
            out.add(_unescape_md(body))
            out.entity("pre", start, **({"language": language} if language else {}))
            i = end + 3
        elif char == "`":
            end = _find_unescaped(text, "`", i + 1)
            if end == -1:
                offset = _byte_offset(text, i)
                raise _bad(f"can't parse entities: Can't find end of Code entity at byte offset {offset}")
            start = out.offset
            out.add(_unescape_md(text[i + 1 : end]))
            out.entity("code", start)
            i = end + 1
        elif char in "*_~|":
            marker = text[i : i + 2] if text.startswith(("__", "||"), i) else char
            if marker == "|":
                raise _bad(
                    "can't parse entities: Character '|' is reserved and must be escaped with the "
                    "preceding '\\'"
                )
            if stack and stack[-1][0] == marker:
                _, start, _src = stack.pop()
                out.entity(_MDV2_TYPES[marker], start)
            else:
                stack.append((marker, out.offset, i))
            i += len(marker)
        elif char == "[":
            stack.append(("[", out.offset, i))
            i += 1
        elif char == "]" and stack and stack[-1][0] == "[":
            _, start, _src = stack.pop()
            i += 1
            if i < n and text[i] == "(":
                end = _find_unescaped(text, ")", i + 1)
                if end == -1:
                    offset = _byte_offset(text, i)
                    raise _bad(f"can't parse entities: Can't find end of a URL at byte offset {offset}")
                out.entity("text_link", start, url=_unescape_md(text[i + 1 : end]))
                i = end + 1
        elif char == ">" and (i == 0 or text[i - 1] == "\n"):
            end = text.find("\n", i)
            end = n if end == -1 else end
            start = out.offset
            inner, entities = _parse_markdown_v2(text[i + 1 : end])
            for entity in entities:
                out.entities.append({**entity, "offset": entity["offset"] + start})
            out.add(inner)
            out.entity("blockquote", start)
            i = end
        elif char in _MDV2_RESERVED:
            raise _bad(
                f"can't parse entities: Character '{char}' is reserved and must be escaped with the "
                "preceding '\\'"
            )
        else:
            out.add(char)
            i += 1
    if stack:
        marker, _, src = stack[-1]
        raise _bad(
            f"can't parse entities: Can't find end of {_MDV2_NAMES[marker]} entity at byte offset "
            f"{_byte_offset(text, src)}"
        )
    return out.result()


def _parse_markdown_legacy(text: str) -> tuple[str, list[JSON]]:
    """Legacy Markdown: lenient, but an unclosed ``*``/``_``/`` ` ``/``[`` still fails."""
    out = _TextBuilder()
    i, n = 0, len(text)
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "*_`[":
            out.add(text[i + 1])
            i += 2
        elif text.startswith("```", i) or char in kinds or char == "[":
            closer = "```" if text.startswith("```", i) else ("]" if char == "[" else char)
            end = text.find(closer, i + len(closer) if closer == "```" else i + 1)
            if end == -1:
                raise _bad(
                    "can't parse entities: Can't find end of the entity starting at byte offset "
                    f"{_byte_offset(text, i)}"
                )
            inner = text[i + (3 if closer == "```" else 1) : end]
            start = out.offset
            out.add(inner)
            i = end + len(closer)
            if closer == "```":
                out.entity("pre", start)
            elif closer == "]":
                if i < n and text[i] == "(" and text.find(")", i) != -1:
                    close = text.find(")", i)
                    out.entity("text_link", start, url=text[i + 1 : close])
                    i = close + 1
            else:
                out.entity(kinds[char], start)
        else:
            out.add(char)
            i += 1
    return out.result()


def _normalise_parse_mode(parse_mode: Any) -> str | None:
    if parse_mode is None or parse_mode == "":
        return None
    lowered = str(parse_mode).lower()
    if lowered == "html":
        return "HTML"
    if lowered == "markdownv2":
        return "MarkdownV2"
    if lowered == "markdown":
        return "Markdown"
    raise _bad(f"unsupported parse_mode {parse_mode}")


def _parse_text(text: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Displayed text and entities for a text sent with ``parse_mode``; raises like Telegram on bad markup."""
    mode = _normalise_parse_mode(parse_mode)
    if mode == "HTML":
        return _parse_html(text)
    if mode == "MarkdownV2":
        return _parse_markdown_v2(text)
    if mode == "Markdown":
        return _parse_markdown_legacy(text)
    return text, []


def _strip_text(plain: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram trims surrounding whitespace from messages; entities are shifted/clamped to match."""
    stripped = plain.strip()
    if stripped == plain:
        return plain, entities
    shift = _u16len(plain[: len(plain) - len(plain.lstrip())])
    limit = _u16len(stripped)
    fixed: list[JSON] = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(limit, entity["offset"] + entity["length"] - shift)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return stripped, fixed


def _inline_rows(markup: JSON | None) -> list[list[Button]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        [Button(str(b.get("text", "")), b.get("callback_data"), b.get("url")) for b in row]
        for row in markup["inline_keyboard"]
    ]


def _chat_id_of_update(update: JSON) -> int:
    for key in ("message", "edited_message", "callback_query"):
        payload = update.get(key)
        if isinstance(payload, dict):
            if key == "callback_query":
                return int(payload["from"]["id"])
            return int(payload["chat"]["id"])
    return 0


def _update_kind(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _as_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(f"invalid integer value {value!r}") from None


# --------------------------------------------------------------------------------------------------
# Traveller: the user's side of a private chat
# --------------------------------------------------------------------------------------------------


class Traveller:
    """A Telegram user in a private chat with the bot; drives the conversation like a real client.

    Each traveller reads the chat's sent/edited events through its own cursor, so concurrent
    travellers never steal each other's messages.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        chat: _Chat,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
    ) -> None:
        self._fake = fake
        self._chat = chat
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.callback_answers: list[dict[str, Any]] = []
        self._cursor = 0

    @property
    def chat_id(self) -> int:
        """Private chat id; equals the user id, as on real Telegram."""
        return self._chat.chat_id

    def user_dict(self) -> JSON:
        """The ``from`` object real clients attach to this user's messages and callback queries."""
        user: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        user["language_code"] = "en"
        return user

    def _user_message(self, **content: Any) -> JSON:
        message_id = self._chat.next_message_id()
        date = int(time.time())
        message: JSON = {
            "message_id": message_id,
            "from": self.user_dict(),
            "chat": dict(self._chat.wire),
            "date": date,
            **content,
        }
        self._chat.messages[message_id] = _StoredMessage(
            chat_id=self.chat_id,
            message_id=message_id,
            from_bot=False,
            date=date,
            wire=message,
            raw_text=str(content.get("text", "")),
        )
        return message

    async def send(self, text: str) -> JSON:
        """Type ``text``; a leading ``/word`` gets the bot_command entity PTB's CommandHandler needs."""
        content: JSON = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": _u16len(command)}]
        update = self._fake._enqueue_update({"message": self._user_message(**content)})
        await asyncio.sleep(0)
        return update

    async def share_contact(self, phone: str, own: bool = True, contact_user_id: int | None = None) -> JSON:
        """Share a contact; ``own=True`` is the request_contact button (contact.user_id == from.id)."""
        contact: JSON = {"phone_number": phone}
        if own:
            contact["first_name"] = self.first_name
            if self.last_name:
                contact["last_name"] = self.last_name
            contact["user_id"] = self.user_id
        else:
            contact["first_name"] = "Grace"
            contact["last_name"] = "Hopper"
            if contact_user_id is not None:
                contact["user_id"] = contact_user_id
        update = self._fake._enqueue_update({"message": self._user_message(contact=contact)})
        await asyncio.sleep(0)
        return update

    def _press_target(self, message: BotMessage | int | None) -> _StoredMessage:
        if message is not None:
            message_id = message if isinstance(message, int) else message.message_id
            stored = self._chat.messages.get(message_id)
            if stored is None or not stored.from_bot:
                raise AssertionError(
                    f"bot message {message_id} does not exist (any more) in chat {self.chat_id}"
                )
            return stored
        for stored in sorted(self._chat.messages.values(), key=lambda m: m.message_id, reverse=True):
            if stored.from_bot and _inline_rows(stored.reply_markup):
                return stored
        texts = [m.plain_text()[:60] for m in self.messages()]
        raise AssertionError(
            f"no bot message with an inline keyboard in chat {self.chat_id}; messages: {texts!r}"
        )

    async def press(self, label: str, message: BotMessage | int | None = None) -> JSON:
        """Tap an inline button (on ``message``'s current state, or the newest keyboard in the chat)."""
        stored = self._press_target(message)
        button = self._fake._snapshot(stored).find_button(label)
        if button.callback_data is None:
            raise AssertionError(
                f"button {button.text!r} has no callback_data (url={button.url!r}); cannot press it"
            )
        return await self._callback(button.callback_data, stored.message_id)

    async def press_data(self, data: str, message_id: int) -> JSON:
        """Send a raw callback, e.g. a stale button from an old message or forged data."""
        return await self._callback(data, message_id)

    async def _callback(self, data: str, message_id: int) -> JSON:
        stored = self._chat.messages.get(message_id)
        if stored is not None:
            message = copy.deepcopy(stored.wire)
        else:  # deleted/unknown: Telegram sends an InaccessibleMessage (date 0)
            message = {"chat": dict(self._chat.wire), "message_id": message_id, "date": 0}
        query_id = self._fake._new_callback_id(self, data, message_id)
        query: JSON = {
            "id": query_id,
            "from": self.user_dict(),
            "chat_instance": self._chat.chat_instance,
            "data": data,
            "message": message,
        }
        update = self._fake._enqueue_update({"callback_query": query})
        await asyncio.sleep(0)
        return update

    async def next_message(self, timeout: float = 5.0) -> BotMessage:
        """The next sent/edited bot message in this chat after the last one this traveller consumed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._cursor < len(self._chat.events):
                event = self._chat.events[self._cursor]
                self._cursor += 1
                return event
            remaining = deadline - loop.time()
            if remaining <= 0:
                last = self._chat.events[-1].plain_text()[:200] if self._chat.events else None
                raise AssertionError(
                    f"no new bot message in chat {self.chat_id} within {timeout}s (last seen: {last!r})"
                )
            await self._chat.signal.wait(remaining)

    async def wait_for(
        self,
        match: str | Callable[[BotMessage], bool],
        timeout: float = 5.0,
    ) -> BotMessage:
        """Consume events until one matches (substring, case-insensitive, or predicate)."""
        predicate: Callable[[BotMessage], bool]
        if isinstance(match, str):
            needle = match.casefold()
            predicate = lambda message: needle in message.plain_text().casefold()  # noqa: E731
            description = repr(match)
        else:
            predicate = match
            description = getattr(match, "__name__", "predicate")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[str] = []
        while True:
            try:
                message = await self.next_message(max(0.0, deadline - loop.time()))
            except AssertionError:
                raise AssertionError(
                    f"no bot message matching {description} in chat {self.chat_id} within {timeout}s; "
                    f"saw: {seen!r}"
                ) from None
            if predicate(message):
                return message
            seen.append(("(edited) " if message.edited else "") + message.plain_text()[:200])

    async def assert_no_message(self, timeout: float = 0.3) -> None:
        """Fail if the bot sends or edits anything in this chat within ``timeout`` (e.g. double taps)."""
        try:
            message = await self.next_message(timeout)
        except AssertionError:
            return
        raise AssertionError(f"unexpected bot message in chat {self.chat_id}: {message.plain_text()[:200]!r}")

    def last_message(self) -> BotMessage:
        """Current state of the newest bot message in the chat."""
        bot_messages = [m for m in self._chat.messages.values() if m.from_bot]
        if not bot_messages:
            raise AssertionError(f"the bot has sent nothing (still visible) in chat {self.chat_id}")
        return self._fake._snapshot(max(bot_messages, key=lambda m: m.message_id))

    def messages(self) -> list[BotMessage]:
        """Current state of every bot message still in the chat, oldest first."""
        stored = sorted((m for m in self._chat.messages.values() if m.from_bot), key=lambda m: m.message_id)
        return [self._fake._snapshot(m) for m in stored]


# --------------------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------------------

_Handler = Callable[[dict[str, Any]], Any]


class FakeTelegram(LoopbackServer):
    """The fake Bot API server.  Start it, point the bot at :attr:`api_root`, drive :class:`Traveller`s.

    All state lives on the event loop the server runs on; handlers and tests share it without locks.
    """

    _backlog: ClassVar[int] = 1024  # load benches open many connections at once

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        strict_chats: bool = True,
        bot_first_name: str = "FlyO",
        bot_username: str = "flyo_test_bot",
        webhook_retries: int = 3,
    ) -> None:
        super().__init__()
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.strict_chats = strict_chats
        self.webhook_retries = webhook_retries
        self.calls: list[Call] = []
        self.blocked_chats: set[int] = set()
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}

        self._allowed_updates: list[str] = []
        self._webhook_max_connections = 40
        self._webhook_last_error: tuple[int, str] | None = None
        self._faults: dict[str, list[_Fault]] = {}
        self._pending: list[JSON] = []
        self._update_ids = itertools.count(10000)
        self._callback_ids = itertools.count(random.randrange(10**15, 10**16))
        self._chats: dict[int, _Chat] = {}
        self._travellers: dict[int, Traveller] = {}
        self._callbacks: dict[str, _PendingCallback] = {}
        self._documents: dict[str, Document] = {}
        self._file_ids = itertools.count(1)
        self._updates_signal = _Signal()
        self._calls_signal = _Signal()
        self._deliveries_signal = _Signal()
        self._poll_generation = 0
        self._closing = False
        self._in_flight = 0
        self._delivery_tail: dict[int, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._semaphore: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None

        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "deleteMessage": self._delete_message,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendChatAction": self._send_chat_action,
                "close": self._true,
                "logOut": self._true,
            }.items()
        }

    # ---- lifecycle -----------------------------------------------------------------------------

    # start()/stop()/``async with``/``url``/``port`` come from LoopbackServer (127.0.0.1 only, free port).
    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def _started(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._semaphore = asyncio.Semaphore(self._webhook_max_connections)
        self._closing = False

    async def _stopping(self) -> None:
        """Release long-polls first so the server can shut down without waiting out their timeouts."""
        self._closing = True
        self._updates_signal.fire()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def api_root(self) -> str:
        """``http://127.0.0.1:PORT`` -- the value for TELEGRAM_API_URL."""
        return self.url

    @property
    def base_url(self) -> str:
        """What ``ApplicationBuilder().base_url(...)`` wants (PTB appends the token itself)."""
        return f"{self.api_root}/bot"

    @property
    def base_file_url(self) -> str:
        """What ``ApplicationBuilder().base_file_url(...)`` wants."""
        return f"{self.api_root}/file/bot"

    # ---- test controls -------------------------------------------------------------------------

    def traveller(
        self,
        user_id: int,
        first_name: str = "Ada",
        last_name: str | None = "Lovelace",
        username: str | None = None,
    ) -> Traveller:
        """The user ``user_id`` with an open private chat (chat.id == user_id); same object on repeat."""
        existing = self._travellers.get(user_id)
        if existing is not None:
            return existing
        chat = self._chats.get(user_id)
        if chat is None:
            chat = self._chats[user_id] = _Chat(user_id, first_name, last_name, username)
        traveller = Traveller(self, chat, user_id, first_name, last_name, username)
        self._travellers[user_id] = traveller
        return traveller

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail; 429 + ``retry_after`` is flood control."""
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after or 1}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
        if error_code == 429 and retry_after is None:
            retry_after = 1
        fault = _Fault(error_code, description, retry_after, times)
        self._faults.setdefault(method.lower(), []).append(fault)

    def calls_of(self, method: str) -> list[Call]:
        """Recorded calls of ``method`` (case-insensitive), in arrival order."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
    ) -> Call:
        """First recorded call of ``method`` matching ``predicate``, waiting for it if necessary."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for call in self.calls_of(method):
                if predicate is None or predicate(call):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [c.method for c in self.calls[-20:]]
                raise AssertionError(f"no matching {method} call within {timeout}s; recent calls: {seen}")
            await self._calls_signal.wait(remaining)

    async def wait_for_delivery(
        self,
        update_id: int,
        timeout: float = 5.0,
    ) -> WebhookDelivery:
        """The successful webhook delivery of ``update_id`` (the bot answered 2xx), waiting if needed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            attempts = [d for d in self.webhook_deliveries if d.update_id == update_id]
            if attempts and attempts[-1].error is None:
                return attempts[-1]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"update {update_id} was not accepted by the webhook: {attempts!r}")
            await self._deliveries_signal.wait(remaining)

    def callback_query(self, query_id: str) -> CallbackQueryRecord:
        """What happened to one press (see :meth:`Traveller.press`, whose update carries the id)."""
        pending = self._callbacks.get(str(query_id))
        if pending is None:
            raise AssertionError(f"no callback query {query_id!r} was sent by a traveller")
        return pending.record()

    def callback_queries(self) -> list[CallbackQueryRecord]:
        """Every press by every traveller, in press order."""
        return [pending.record() for pending in self._callbacks.values()]

    def unanswered_callbacks(self) -> list[CallbackQueryRecord]:
        """Presses the bot never answered: on a real client, the button would still show its spinner."""
        return [pending.record() for pending in self._callbacks.values() if not pending.answered]

    async def wait_until_callbacks_answered(self, timeout: float = 5.0) -> None:
        """Wait until every press so far has been answered; fail listing the ones still spinning."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            unanswered = self.unanswered_callbacks()
            if not unanswered:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                described = [(c.user_id, c.data) for c in unanswered]
                raise AssertionError(f"{len(unanswered)} callback queries unanswered after {timeout}s: {described}")
            await self._calls_signal.wait(remaining)

    def not_modified_edits(self) -> list[Call]:
        """Edits rejected with "message is not modified": wasted calls a careful bot never makes."""
        return [call for call in self.calls if call.description == ERR_NOT_MODIFIED]

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates waiting for getUpdates (not yet confirmed by a higher offset)."""
        return list(self._pending)

    # ---- HTTP plumbing -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            params = await self._read_params(request)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._error_response(_bad(f"can't parse request body: {exc}"))
        entry = self._methods.get(method.lower())
        call = Call(entry[0] if entry else method, params, arrived)
        self.calls.append(call)
        self._calls_signal.fire()
        try:
            if token != self.token:
                raise _ApiError(401, "Unauthorized")
            if entry is None:
                raise _ApiError(404, "Not Found: method not found")
            fault = self._take_fault(entry[0])
            if fault is not None:
                raise fault
            result = await entry[1](params)
        except _ApiError as error:
            call.error_code, call.description = error.code, error.description
            self._calls_signal.fire()
            return self._error_response(error)
        call.result = result
        self._calls_signal.fire()
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error_response(error: _ApiError) -> web.Response:
        body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        return web.json_response(body, status=error.code)

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        """Decode the body the way Telegram does: query string + form/multipart/JSON, nested JSON decoded."""
        decode = FakeTelegram._decode_form_value
        params: dict[str, Any] = {key: decode(key, value) for key, value in request.query.items()}
        if request.content_type == "application/json":
            raw = await request.read()
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            for key, value in body.items():
                if key in _JSON_PARAMS and isinstance(value, str):
                    value = json.loads(value)
                params[key] = value
            return params
        if request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
                elif isinstance(value, (bytes, bytearray)):
                    params[key] = FakeTelegram._decode_form_value(key, bytes(value).decode("utf-8"))
                else:
                    params[key] = FakeTelegram._decode_form_value(key, value)
        # Anything else (PTB's parameterless calls arrive as an empty application/octet-stream body).
        return params

    @staticmethod
    def _decode_form_value(key: str, value: str) -> Any:
        if key in _STRING_PARAMS or key in _FILE_PARAMS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    def _take_fault(self, method: str) -> _ApiError | None:
        queue = self._faults.get(method.lower())
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault.error()

    # ---- update delivery -----------------------------------------------------------------------

    def _enqueue_update(self, payload: JSON) -> JSON:
        update: JSON = {"update_id": next(self._update_ids), **payload}
        if not self._is_allowed(update):
            return update
        if self.webhook_url is not None:
            self._schedule_delivery(update)
        else:
            self._pending.append(update)
            self._updates_signal.fire()
        return update

    def _is_allowed(self, update: JSON) -> bool:
        kind = _update_kind(update)
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _DEFAULT_EXCLUDED_UPDATES

    def _schedule_delivery(self, update: JSON) -> None:
        chat_id = _chat_id_of_update(update)
        previous = self._delivery_tail.get(chat_id)
        self._in_flight += 1
        task = asyncio.create_task(self._deliver(update, previous))
        self._delivery_tail[chat_id] = task
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if self._delivery_tail.get(chat_id) is finished:
                del self._delivery_tail[chat_id]

        task.add_done_callback(done)

    async def _deliver(self, update: JSON, previous: asyncio.Task[None] | None) -> None:
        """POST one update; per-chat order is kept by chaining on the chat's previous delivery."""
        try:
            if previous is not None:
                await asyncio.wait([previous])
            for attempt in range(self.webhook_retries + 1):
                url, secret = self.webhook_url, self.webhook_secret
                if url is None:  # webhook removed meanwhile: hand the update to getUpdates instead
                    self._pending.append(update)
                    self._pending.sort(key=lambda u: int(u["update_id"]))
                    self._updates_signal.fire()
                    return
                status, error = await self._post_update(url, secret, update)
                delivery = WebhookDelivery(int(update["update_id"]), url, status, error, attempt)
                self.webhook_deliveries.append(delivery)
                self._deliveries_signal.fire()
                if error is None:
                    return
                self._webhook_last_error = (int(time.time()), error)
                await asyncio.sleep(0.05 * 2**attempt)
        finally:
            self._in_flight -= 1

    async def _post_update(self, url: str, secret: str | None, update: JSON) -> tuple[int | None, str | None]:
        assert self._session is not None and self._semaphore is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        try:
            async with self._semaphore, self._session.post(url, json=update, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return response.status, None
                reason = f"{response.status} {response.reason}"
                return response.status, f"Wrong response from the webhook: {reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"Connection failed: {exc.__class__.__name__}"

    # ---- chat helpers --------------------------------------------------------------------------

    def _resolve_chat(self, params: dict[str, Any], *, check_blocked: bool = True) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise _ApiError(400, ERR_CHAT_NOT_FOUND) from None
        if check_blocked and chat_id in self.blocked_chats:
            raise _ApiError(403, ERR_BLOCKED)
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats:
                raise _ApiError(400, ERR_CHAT_NOT_FOUND)
            chat = self._chats[chat_id] = _Chat(chat_id, "User", None, None)
        return chat

    def _resolve_edit_target(self, params: dict[str, Any]) -> _StoredMessage | None:
        if params.get("inline_message_id"):
            return None
        if params.get("message_id") in (None, ""):
            raise _bad("message identifier is not specified")
        chat = self._resolve_chat(params)
        stored = chat.messages.get(_as_int(params.get("message_id"), 0))
        if stored is None:
            raise _ApiError(400, ERR_EDIT_NOT_FOUND)
        if not stored.from_bot:
            raise _bad("message can't be edited")
        return stored

    @staticmethod
    def _render(text: Any, parse_mode: Any, entities: Any, *, caption: bool) -> tuple[str, list[JSON]]:
        limit = MAX_CAPTION_LENGTH if caption else MAX_MESSAGE_LENGTH
        if text is None or text == "":
            if caption:
                return "", []
            raise _ApiError(400, ERR_TEXT_EMPTY)
        raw = str(text)
        mode = _normalise_parse_mode(parse_mode)
        if mode is not None and entities:
            mode = None  # Telegram: explicit entities win over parse_mode
        plain, parsed = _parse_text(raw, mode)
        if entities and isinstance(entities, list):
            parsed = [dict(e) for e in entities if isinstance(e, dict)]
        plain, parsed = _strip_text(plain, parsed)
        if not plain and not caption:
            raise _ApiError(400, ERR_TEXT_EMPTY)
        if _u16len(plain) > limit:
            raise _ApiError(400, ERR_CAPTION_TOO_LONG if caption else ERR_TOO_LONG)
        return plain, parsed

    @staticmethod
    def _check_markup(markup: Any, *, inline_only: bool = False) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
            if sum(len(row) for row in rows) > 100:
                raise _bad("reply markup is too long")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not str(button.get("text", "")):
                        raise _bad("can't parse inline keyboard button: Text must be non-empty")
                    if not _INLINE_BUTTON_ACTIONS.intersection(button):
                        raise _bad(
                            "can't parse inline keyboard button: "
                            "Text buttons are unallowed in the inline keyboard"
                        )
                    if "callback_data" in button:
                        data = button["callback_data"]
                        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                            raise _ApiError(400, ERR_BUTTON_DATA_INVALID)
                    if "url" in button:
                        url = button["url"]
                        if not isinstance(url, str) or urlsplit(url).scheme not in {"http", "https", "tg"}:
                            raise _bad("BUTTON_URL_INVALID")
            return markup
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad("can't parse reply keyboard markup JSON object")
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    def _new_message(
        self,
        chat: _Chat,
        params: dict[str, Any],
        content: JSON,
        *,
        raw_text: str,
        parse_mode: str | None,
        markup: JSON | None,
        document: Document | None = None,
    ) -> JSON:
        reply_to = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_to = reply_parameters.get("message_id", reply_to)
        replied: _StoredMessage | None = None
        if reply_to not in (None, ""):
            replied = chat.messages.get(_as_int(reply_to, 0))
            allow = params.get("allow_sending_without_reply") or (
                isinstance(reply_parameters, dict) and reply_parameters.get("allow_sending_without_reply")
            )
            if replied is None and not allow:
                raise _bad("message to be replied not found")
        message_id = chat.next_message_id()
        date = int(time.time())
        wire: JSON = {
            "message_id": message_id,
            # Messages carry the short User object; can_join_groups & co. only appear in getMe.
            "from": {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")},
            "chat": dict(chat.wire),
            "date": date,
        }
        if replied is not None:
            wire["reply_to_message"] = copy.deepcopy(replied.wire)
        wire.update(content)
        if markup is not None and "inline_keyboard" in markup:
            wire["reply_markup"] = markup
        stored = _StoredMessage(
            chat_id=chat.chat_id,
            message_id=message_id,
            from_bot=True,
            date=date,
            wire=wire,
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_markup=markup,
            document=document,
        )
        chat.messages[message_id] = stored
        self._record_event(chat, stored)
        return copy.deepcopy(wire)

    def _record_event(self, chat: _Chat, stored: _StoredMessage, *, edited: bool = False) -> None:
        chat.events.append(self._snapshot(stored, edited=edited))
        chat.signal.fire()

    def _snapshot(self, stored: _StoredMessage, *, edited: bool | None = None) -> BotMessage:
        markup = stored.reply_markup or {}
        keyboard_rows = markup.get("keyboard")
        reply_keyboard: list[list[str]] | None = None
        requests_contact = False
        if isinstance(keyboard_rows, list):
            reply_keyboard = []
            for row in keyboard_rows:
                labels: list[str] = []
                for button in row:
                    if isinstance(button, dict):
                        labels.append(str(button.get("text", "")))
                        requests_contact = requests_contact or bool(button.get("request_contact"))
                    else:
                        labels.append(str(button))
                reply_keyboard.append(labels)
        return BotMessage(
            chat_id=stored.chat_id,
            message_id=stored.message_id,
            text=stored.raw_text,
            parse_mode=stored.parse_mode,
            buttons=_inline_rows(stored.reply_markup),
            reply_keyboard=reply_keyboard,
            requests_contact=requests_contact,
            remove_keyboard=bool(markup.get("remove_keyboard")),
            force_reply=bool(markup.get("force_reply")),
            document=stored.document,
            edited=stored.edited if edited is None else edited,
            date=stored.date,
            raw=copy.deepcopy(stored.wire),
        )

    def _new_callback_id(self, traveller: Traveller, data: str, message_id: int) -> str:
        query_id = str(next(self._callback_ids))
        self._callbacks[query_id] = _PendingCallback(traveller, query_id, data, message_id)
        return query_id

    # ---- method implementations ----------------------------------------------------------------

    async def _true(self, params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any]) -> JSON:
        return dict(self.bot_user)

    async def _get_updates(self, params: dict[str, Any]) -> list[JSON]:
        if self.webhook_url is not None:
            raise _ApiError(409, ERR_WEBHOOK_ACTIVE)
        offset = _as_int(params.get("offset"), 0)
        limit = min(100, max(1, _as_int(params.get("limit"), 100)))
        try:
            timeout = max(0.0, float(params.get("timeout") or 0))
        except (TypeError, ValueError):
            raise _bad("invalid timeout") from None
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        if offset > 0:
            self._pending = [u for u in self._pending if int(u["update_id"]) >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        self._pending = [u for u in self._pending if self._is_allowed(u)]
        # A newer getUpdates terminates an older pending one, as on the real server.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise _ApiError(409, ERR_POLL_CONFLICT)
            if self._pending or self._closing or self.webhook_url is not None:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self._updates_signal.wait(remaining)
        return copy.deepcopy(self._pending[:limit])

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(str(url))
        if parts.scheme not in {"http", "https"} or parts.hostname not in _LOOPBACK_HOSTS:
            raise _bad("bad webhook: the fake Telegram only delivers to http(s)://127.0.0.1")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise _bad("secret token contains unallowed characters")
        self.webhook_url = str(url)
        self.webhook_secret = str(secret) if secret else None
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        max_connections = _as_int(params.get("max_connections"), 40)
        if max_connections != self._webhook_max_connections:
            self._webhook_max_connections = max(1, min(100, max_connections))
            self._semaphore = asyncio.Semaphore(self._webhook_max_connections)
        pending, self._pending = self._pending, []
        if not params.get("drop_pending_updates"):
            for update in pending:
                self._schedule_delivery(update)
        self._updates_signal.fire()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = None
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> JSON:
        info: JSON = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending) + self._in_flight,
        }
        if self.webhook_url:
            info["ip_address"] = "127.0.0.1"
            info["max_connections"] = self._webhook_max_connections
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
        if self._webhook_last_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _send_message(self, params: dict[str, Any]) -> JSON:
        chat = self._resolve_chat(params)
        parse_mode = _normalise_parse_mode(params.get("parse_mode"))
        plain, entities = self._render(params.get("text"), parse_mode, params.get("entities"), caption=False)
        markup = self._check_markup(params.get("reply_markup"))
        content: JSON = {"text": plain}
        if entities:
            content["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._new_message(
            chat, params, content, raw_text=str(params["text"]), parse_mode=parse_mode, markup=markup
        )

    async def _send_document(self, params: dict[str, Any]) -> JSON:
        chat = self._resolve_chat(params)
        document = self._resolve_document(params)
        parse_mode = _normalise_parse_mode(params.get("parse_mode"))
        caption = params.get("caption")
        plain, entities = self._render(caption, parse_mode, params.get("caption_entities"), caption=True)
        markup = self._check_markup(params.get("reply_markup"))
        doc_wire: JSON = {
            "file_id": document.file_id,
            "file_unique_id": f"U{document.file_id[-12:]}",
            "file_size": len(document.content),
        }
        if document.filename:
            doc_wire["file_name"] = document.filename
        if document.mime_type:
            doc_wire["mime_type"] = document.mime_type
        content: JSON = {"document": doc_wire}
        if plain:
            content["caption"] = plain
        if entities:
            content["caption_entities"] = entities
        return self._new_message(
            chat,
            params,
            content,
            raw_text=str(caption or ""),
            parse_mode=parse_mode,
            markup=markup,
            document=document,
        )

    def _resolve_document(self, params: dict[str, Any]) -> Document:
        value = params.get("document")
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            file_id = f"BQACAgQAAxk{next(self._file_ids):08d}FAKE"
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(value.filename or "")[0] or mime
            document = Document(file_id, value.filename, value.content, mime)
            self._documents[file_id] = document
            return document
        if isinstance(value, str) and value:
            known = self._documents.get(value)
            if known is not None:
                return known
            if urlsplit(value).scheme in {"http", "https"}:
                filename = urlsplit(value).path.rsplit("/", 1)[-1] or None
                file_id = f"BQACAgQAAxk{next(self._file_ids):08d}FAKE"
                document = Document(file_id, filename, b"", mimetypes.guess_type(filename or "")[0])
                self._documents[file_id] = document
                return document
            raise _bad("wrong file identifier/HTTP URL specified")
        raise _bad("there is no document in the request")

    async def _edit_message_text(self, params: dict[str, Any]) -> JSON | bool:
        stored = self._resolve_edit_target(params)
        parse_mode = _normalise_parse_mode(params.get("parse_mode"))
        plain, entities = self._render(params.get("text"), parse_mode, params.get("entities"), caption=False)
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        if stored is None:
            return True
        if stored.document is not None:
            raise _bad("there is no text in the message to edit")
        if (
            stored.wire.get("text") == plain
            and stored.wire.get("entities", []) == entities
            and stored.wire.get("reply_markup") == markup
        ):
            raise _ApiError(400, ERR_NOT_MODIFIED)
        stored.wire["text"] = plain
        if entities:
            stored.wire["entities"] = entities
        else:
            stored.wire.pop("entities", None)
        self._apply_edit(stored, markup)
        stored.raw_text = str(params["text"])
        stored.parse_mode = parse_mode
        return self._finish_edit(stored)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> JSON | bool:
        stored = self._resolve_edit_target(params)
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        if stored is None:
            return True
        current = stored.wire.get("reply_markup")
        if current == markup or (current is None and not _inline_rows(markup)):
            raise _ApiError(400, ERR_NOT_MODIFIED)
        self._apply_edit(stored, markup)
        return self._finish_edit(stored)

    @staticmethod
    def _apply_edit(stored: _StoredMessage, markup: JSON | None) -> None:
        # Omitting reply_markup in an edit removes the inline keyboard, exactly like Telegram.  A reply
        # keyboard sent with the message belongs to the chat, not the message, so it stays.
        if markup is not None or (stored.reply_markup and "inline_keyboard" in stored.reply_markup):
            stored.reply_markup = markup
        if markup is not None:
            stored.wire["reply_markup"] = markup
        else:
            stored.wire.pop("reply_markup", None)
        stored.wire["edit_date"] = int(time.time())
        stored.edited = True

    def _finish_edit(self, stored: _StoredMessage) -> JSON:
        self._record_event(self._chats[stored.chat_id], stored, edited=True)
        return copy.deepcopy(stored.wire)

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        pending = self._callbacks.get(query_id)
        if pending is None:
            raise _ApiError(400, ERR_QUERY_TOO_OLD)
        if pending.answered:
            pending.rejected += 1
            raise _ApiError(400, ERR_QUERY_TOO_OLD)
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        pending.answers.append(dict(params))
        pending.traveller.callback_answers.append(dict(params))
        return True

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params, check_blocked=False)
        message_id = _as_int(params.get("message_id"), 0)
        if chat.messages.pop(message_id, None) is None:
            raise _bad("message to delete not found")
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._resolve_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True
