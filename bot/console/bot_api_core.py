"""A Bot API server on loopback: what the terminal chat and the tests' fake Telegram share.

python-telegram-bot talks to it exactly as to api.telegram.org: the same URLs (`/bot{token}/{method}`,
method names case-insensitive), the bodies PTB 22 sends (form-encoded with JSON inside, multipart for
uploads, an empty body for parameterless calls, JSON from other clients), and the error envelope with HTTP
status == error_code (PTB picks its exception class from the status). It keeps every private chat and
its messages, queues the users' messages and button presses as updates for getUpdates, and answers the
methods FlyO uses with Telegram's results, limits and error texts (`bot.console.telegram_rules`).

Fidelity, because each point hides a class of production bugs when faked loosely:

* Messages returned to the bot carry the *parsed* text plus `entities`, as Telegram's do, so
  `message.text` never contains HTML tags; the store keeps the raw text the bot sent too.
* `editMessageText` without `reply_markup` removes the inline keyboard; only inline keyboards are echoed in
  `Message.reply_markup`; an edit that changes neither text nor keyboard is "message is not modified".
* Every button press is tracked until answered; a second answer is "query is too old".
* Sending to a chat nobody opened is "chat not found" (`strict_chats`); a blocked chat is 403.
* A newer getUpdates ends an older one with 409, as on Telegram.

Subclasses: `bot.console.bot_api.LocalBotApi` (one chat, the person at the terminal) and the tests'
`FakeTelegram` (many travellers, recording, fault injection, webhooks). They hook in through
`_on_message`, `_on_callback_answer`, `_dispatch`/`_invoke`, `_enqueue_update`, `_new_chat` and
`_store_upload`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import mimetypes
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from aiohttp import web

from bot.console.telegram_rules import (
    CHAT_ACTIONS,
    COMMAND_RE,
    DEFAULT_EXCLUDED_UPDATES,
    ERR_BLOCKED,
    ERR_CHAT_NOT_FOUND,
    ERR_EDIT_NOT_FOUND,
    ERR_METHOD_NOT_FOUND,
    ERR_NOT_MODIFIED,
    ERR_POLL_CONFLICT,
    ERR_QUERY_TOO_OLD,
    ERR_WEBHOOK_ACTIVE,
    JSON,
    JSON_PARAMS,
    MAX_CALLBACK_ANSWER_LENGTH,
    ApiError,
    as_int,
    bad,
    check_markup,
    decode_form_value,
    normalise_parse_mode,
    render_text,
    u16len,
    update_kind,
)

log = logging.getLogger(__name__)

Handler = Callable[[JSON], Awaitable[Any]]
MessageEvent = Literal["sent", "edited", "deleted"]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's limit for bots' uploads


# ---- values -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class User:
    """A Telegram user (not a bot), as clients attach it to messages and button presses."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None

    def as_json(self) -> JSON:
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        user["language_code"] = "en"
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


# ---- the server -------------------------------------------------------------------------------------------
class BotApiCore:
    """Bot API state and methods; serve `_build_app()` on 127.0.0.1 (the subclass owns the listener).

    All state lives on the event loop the server runs on; handlers and callers share it without locks.
    """

    # Presses whose id this server never issued: Telegram refuses to answer them ("query is too old").
    accept_unknown_callbacks: ClassVar[bool] = False

    def __init__(self, token: str, *, bot_first_name: str, bot_username: str, strict_chats: bool = True) -> None:
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
        self.blocked_chats: set[int] = set()
        self.webhook_url: str | None = None  # set by a subclass that delivers webhooks
        self.webhook_secret: str | None = None
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._allowed_updates: list[str] = []
        self._updates: list[JSON] = []  # waiting for getUpdates (not yet confirmed by a higher offset)
        self._update_ids = itertools.count(10000)
        self._callback_ids = itertools.count(random.randrange(10**15, 10**16))
        self._file_ids = itertools.count(1)
        self._chats: dict[int, Chat] = {}
        self._callbacks: dict[str, PendingCallback] = {}
        self._documents: dict[str, Document] = {}
        self._updates_signal = Signal()
        self._poll_generation = 0
        self._closing = False
        self._methods: dict[str, tuple[str, Handler]] = {}
        for name, handler in {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
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
        }.items():
            self._register(name, handler)

    def _register(self, name: str, handler: Handler) -> None:
        self._methods[name.lower()] = (name, handler)

    # ---- hooks ------------------------------------------------------------------------------------------
    def _on_message(self, chat: Chat, stored: StoredMessage, event: MessageEvent) -> None:
        """The bot sent, edited or deleted a message."""

    def _on_callback_answer(self, pending: PendingCallback | None, params: JSON) -> None:
        """The bot answered a press (`pending` None: an id this server never issued, when accepted)."""

    def _new_chat(self, chat_id: int, first_name: str, last_name: str | None, username: str | None) -> Chat:
        return Chat(chat_id, first_name, last_name, username)

    def _store_upload(self, document: Document) -> Document:
        """Where an uploaded file is kept: in memory here; a subclass may write it to disk."""
        return document

    # ---- chats and the user's side ----------------------------------------------------------------------
    def open_chat(self, user: User) -> Chat:
        """The user's private chat with the bot (created on first use, as when they press START)."""
        chat = self._chats.get(user.id)
        if chat is None:
            chat = self._chats[user.id] = self._new_chat(user.id, user.first_name, user.last_name, user.username)
        return chat

    def chat(self, chat_id: int) -> Chat | None:
        return self._chats.get(chat_id)

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The command menu the bot set for `scope` (default: every private chat) and language."""
        key = self._commands_key({"scope": scope, "language_code": language_code})
        return copy.deepcopy(self._commands.get(key, []))

    def user_message(self, chat: Chat, user: User, **content: Any) -> JSON:
        """Store a message the user sent (ids are shared with the bot's messages) and return it."""
        message_id = chat.next_message_id()
        date = int(time.time())
        message: JSON = {"message_id": message_id, "from": user.as_json(), "chat": dict(chat.wire), "date": date,
                         **content}
        chat.messages[message_id] = StoredMessage(chat.chat_id, message_id, False, date, message,
                                                  raw_text=str(content.get("text", "")))
        return message

    def user_sends_text(self, chat: Chat, user: User, text: str) -> JSON:
        """The user types `text`; a leading `/word` gets the bot_command entity PTB's CommandHandler needs."""
        content: JSON = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": u16len(command)}]
        return self._enqueue_update({"message": self.user_message(chat, user, **content)})

    def user_shares_contact(self, chat: Chat, user: User, contact: JSON) -> JSON:
        return self._enqueue_update({"message": self.user_message(chat, user, contact=contact)})

    def user_presses(self, chat: Chat, user: User, data: str, message_id: int) -> JSON:
        """A press of a button with `data` on message `message_id`; tracked until the bot answers it."""
        stored = chat.messages.get(message_id)
        if stored is not None:
            message = copy.deepcopy(stored.wire)
        else:  # deleted/unknown: Telegram sends an InaccessibleMessage (date 0)
            message = {"chat": dict(chat.wire), "message_id": message_id, "date": 0}
        query_id = str(next(self._callback_ids))
        self._callbacks[query_id] = PendingCallback(query_id, user.id, chat.chat_id, data, message_id)
        query: JSON = {"id": query_id, "from": user.as_json(), "chat_instance": chat.chat_instance, "data": data,
                       "message": message}
        return self._enqueue_update({"callback_query": query})

    # ---- updates ----------------------------------------------------------------------------------------
    def _enqueue_update(self, payload: JSON) -> JSON:
        update: JSON = {"update_id": next(self._update_ids), **payload}
        if self._is_allowed(update):
            self._updates.append(update)
            self._updates_signal.fire()
        return update

    def _is_allowed(self, update: JSON) -> bool:
        kind = update_kind(update)
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in DEFAULT_EXCLUDED_UPDATES

    def _release_polls(self) -> None:
        """Shutting down: every getUpdates long poll returns at once."""
        self._closing = True
        self._updates_signal.fire()

    # ---- HTTP -------------------------------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            params = await read_params(request)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._error_response(bad(f"can't parse request body: {exc}"))
        try:
            result = await self._dispatch(request.match_info["token"], request.match_info["method"], params)
        except ApiError as error:
            return self._error_response(error)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error_response(error: ApiError) -> web.Response:
        return web.json_response(error.envelope(), status=error.code)

    def method_name(self, method: str) -> str:
        """The Bot API's spelling of `method` (names are case-insensitive)."""
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method

    async def _dispatch(self, token: str, method: str, params: JSON) -> Any:
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        entry = self._methods.get(method.lower())
        if entry is None:
            log.warning("Bot API: method %s is not implemented", method)
            raise ApiError(404, ERR_METHOD_NOT_FOUND)
        return await self._invoke(entry[0], entry[1], params)

    async def _invoke(self, name: str, handler: Handler, params: JSON) -> Any:
        return await handler(params)

    # ---- chat helpers -----------------------------------------------------------------------------------
    def _resolve_chat(self, params: JSON, *, check_blocked: bool = True) -> Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, ERR_CHAT_NOT_FOUND) from None
        if check_blocked and chat_id in self.blocked_chats:
            raise ApiError(403, ERR_BLOCKED)
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats:
                raise ApiError(400, ERR_CHAT_NOT_FOUND)
            chat = self._chats[chat_id] = self._new_chat(chat_id, "User", None, None)
        return chat

    def _resolve_edit_target(self, params: JSON) -> StoredMessage | None:
        if params.get("inline_message_id"):
            return None
        if params.get("message_id") in (None, ""):
            raise bad("message identifier is not specified")
        chat = self._resolve_chat(params)
        stored = chat.messages.get(as_int(params.get("message_id"), 0))
        if stored is None:
            raise ApiError(400, ERR_EDIT_NOT_FOUND)
        if not stored.from_bot:
            raise bad("message can't be edited")
        return stored

    def _new_message(self, chat: Chat, params: JSON, content: JSON, *, raw_text: str, parse_mode: str | None,
                     markup: JSON | None, document: Document | None = None) -> JSON:
        reply_to = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_to = reply_parameters.get("message_id", reply_to)
        replied: StoredMessage | None = None
        if reply_to not in (None, ""):
            replied = chat.messages.get(as_int(reply_to, 0))
            allow = params.get("allow_sending_without_reply") or (
                isinstance(reply_parameters, dict) and reply_parameters.get("allow_sending_without_reply")
            )
            if replied is None and not allow:
                raise bad("message to be replied not found")
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
        stored = StoredMessage(chat.chat_id, message_id, True, date, wire, raw_text=raw_text, parse_mode=parse_mode,
                               reply_markup=markup, document=document)
        chat.messages[message_id] = stored
        self._on_message(chat, stored, "sent")
        return copy.deepcopy(wire)

    # ---- methods ----------------------------------------------------------------------------------------
    async def _true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return dict(self.bot_user)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook_url is not None:
            raise ApiError(409, ERR_WEBHOOK_ACTIVE)
        offset = as_int(params.get("offset"), 0)
        limit = min(100, max(1, as_int(params.get("limit"), 100)))
        try:
            timeout = max(0.0, float(params.get("timeout") or 0))
        except (TypeError, ValueError):
            raise bad("invalid timeout") from None
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        if offset > 0:  # updates below the offset are confirmed and forgotten
            self._updates = [u for u in self._updates if int(u["update_id"]) >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._updates = [u for u in self._updates if self._is_allowed(u)]
        # A newer getUpdates terminates an older pending one, as on the real server.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, ERR_POLL_CONFLICT)
            if self._updates or self._closing or self.webhook_url is not None:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self._updates_signal.wait(remaining)
        return copy.deepcopy(self._updates[:limit])

    async def _delete_webhook(self, params: JSON) -> bool:
        self.webhook_url = None
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        return {"url": self.webhook_url or "", "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _send_message(self, params: JSON) -> JSON:
        chat = self._resolve_chat(params)
        parse_mode = normalise_parse_mode(params.get("parse_mode"))
        plain, entities = render_text(params.get("text"), parse_mode, params.get("entities"), caption=False)
        markup = check_markup(params.get("reply_markup"))
        content: JSON = {"text": plain}
        if entities:
            content["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._new_message(chat, params, content, raw_text=str(params["text"]), parse_mode=parse_mode,
                                 markup=markup)

    async def _send_document(self, params: JSON) -> JSON:
        chat = self._resolve_chat(params)
        document = self._resolve_document(params)
        parse_mode = normalise_parse_mode(params.get("parse_mode"))
        caption = params.get("caption")
        plain, entities = render_text(caption, parse_mode, params.get("caption_entities"), caption=True)
        markup = check_markup(params.get("reply_markup"))
        doc_wire: JSON = {"file_id": document.file_id, "file_unique_id": f"U{document.file_id[-12:]}",
                          "file_size": len(document.content)}
        if document.filename:
            doc_wire["file_name"] = document.filename
        if document.mime_type:
            doc_wire["mime_type"] = document.mime_type
        content: JSON = {"document": doc_wire}
        if plain:
            content["caption"] = plain
        if entities:
            content["caption_entities"] = entities
        return self._new_message(chat, params, content, raw_text=str(caption or ""), parse_mode=parse_mode,
                                 markup=markup, document=document)

    def _new_file_id(self) -> str:
        return f"BQACAgQAAxk{next(self._file_ids):08d}FAKE"

    def _resolve_document(self, params: JSON) -> Document:
        value = params.get("document")
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(value.filename or "")[0] or mime
            document = self._store_upload(Document(self._new_file_id(), value.filename, value.content, mime))
            self._documents[document.file_id] = document
            return document
        if isinstance(value, str) and value:
            known = self._documents.get(value)
            if known is not None:
                return known
            if urlsplit(value).scheme in {"http", "https"}:
                filename = urlsplit(value).path.rsplit("/", 1)[-1] or None
                document = Document(self._new_file_id(), filename, b"", mimetypes.guess_type(filename or "")[0])
                self._documents[document.file_id] = document
                return document
            raise bad("wrong file identifier/HTTP URL specified")
        raise bad("there is no document in the request")

    async def _edit_message_text(self, params: JSON) -> JSON | bool:
        stored = self._resolve_edit_target(params)
        parse_mode = normalise_parse_mode(params.get("parse_mode"))
        plain, entities = render_text(params.get("text"), parse_mode, params.get("entities"), caption=False)
        markup = check_markup(params.get("reply_markup"), inline_only=True)
        if stored is None:
            return True
        if stored.document is not None:
            raise bad("there is no text in the message to edit")
        if (
            stored.wire.get("text") == plain
            and stored.wire.get("entities", []) == entities
            and stored.wire.get("reply_markup") == markup
        ):
            raise ApiError(400, ERR_NOT_MODIFIED)
        stored.wire["text"] = plain
        if entities:
            stored.wire["entities"] = entities
        else:
            stored.wire.pop("entities", None)
        self._apply_edit(stored, markup)
        stored.raw_text = str(params["text"])
        stored.parse_mode = parse_mode
        return self._finish_edit(stored)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        stored = self._resolve_edit_target(params)
        markup = check_markup(params.get("reply_markup"), inline_only=True)
        if stored is None:
            return True
        current = stored.wire.get("reply_markup")
        if current == markup or (current is None and not (markup or {}).get("inline_keyboard")):
            raise ApiError(400, ERR_NOT_MODIFIED)
        self._apply_edit(stored, markup)
        return self._finish_edit(stored)

    @staticmethod
    def _apply_edit(stored: StoredMessage, markup: JSON | None) -> None:
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

    def _finish_edit(self, stored: StoredMessage) -> JSON:
        self._on_message(self._chats[stored.chat_id], stored, "edited")
        return copy.deepcopy(stored.wire)

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        pending = self._callbacks.get(query_id)
        if pending is None and not self.accept_unknown_callbacks:
            raise ApiError(400, ERR_QUERY_TOO_OLD)
        if pending is not None and pending.answered:
            pending.rejected += 1
            raise ApiError(400, ERR_QUERY_TOO_OLD)
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad("MESSAGE_TOO_LONG")
        if pending is not None:
            pending.answers.append(dict(params))
        self._on_callback_answer(pending, dict(params))
        return True

    async def _delete_message(self, params: JSON) -> bool:
        chat = self._resolve_chat(params, check_blocked=False)
        stored = chat.messages.pop(as_int(params.get("message_id"), 0), None)
        if stored is None:
            raise bad("message to delete not found")
        self._on_message(chat, stored, "deleted")
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        self._resolve_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_RE.match(str(command.get("command", ""))):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True


async def read_params(request: web.Request) -> JSON:
    """Decode a request the way Telegram does: query string + form/multipart/JSON, nested JSON decoded."""
    params: JSON = {key: decode_form_value(key, value) for key, value in request.query.items()}
    if request.content_type == "application/json":
        raw = await request.read()
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        for key, value in body.items():
            params[key] = json.loads(value) if key in JSON_PARAMS and isinstance(value, str) else value
        return params
    if request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
            elif isinstance(value, (bytes, bytearray)):
                params[key] = decode_form_value(key, bytes(value).decode("utf-8"))
            else:
                params[key] = decode_form_value(key, value)
    # Anything else (PTB's parameterless calls arrive as an empty application/octet-stream body).
    return params
