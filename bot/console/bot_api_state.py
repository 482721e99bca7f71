"""The loopback Bot API's state and plumbing: chats and the users' side, the update queue, HTTP and request
parsing. `bot.console.bot_api_core.BotApiCore` adds the Bot API methods on top."""

from __future__ import annotations

import copy
import itertools
import json
import logging
import random
import time
from typing import Any, ClassVar

from aiohttp import web

from bot.console.bot_api_values import (
    MAX_UPLOAD_BYTES,
    Chat,
    Document,
    Handler,
    MessageEvent,
    PendingCallback,
    Signal,
    StoredMessage,
    UploadedFile,
    User,
)
from bot.console.telegram_errors import JSON, ApiError, bad
from bot.console.telegram_rules import (
    DEFAULT_EXCLUDED_UPDATES,
    ERR_BLOCKED,
    ERR_CHAT_NOT_FOUND,
    ERR_EDIT_NOT_FOUND,
    ERR_METHOD_NOT_FOUND,
    JSON_PARAMS,
    as_int,
    decode_form_value,
    update_kind,
)
from bot.console.telegram_text import u16len

log = logging.getLogger(__name__)


# ---- the server -------------------------------------------------------------------------------------------
class BotApiState:
    """Bot API state and plumbing (BotApiCore adds the methods); serve `_build_app()` on 127.0.0.1.

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

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


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
