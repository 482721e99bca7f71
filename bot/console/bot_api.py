"""A small Bot API server on 127.0.0.1: the console's stand-in for api.telegram.org.

FlyO's python-telegram-bot Application talks to it exactly as to Telegram (same URLs, form-encoded
bodies with JSON inside, the same error envelope), so the console exercises the production code path.
It holds one private chat — the person at the terminal — and reports what the bot does to it as
`ChatEvent`s; the person's messages, taps and contact shares become updates served by getUpdates.
Only the methods FlyO uses are here; anything else answers 404 like Telegram does for unknown methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiohttp import BodyPartReader, web

from bot.console.render import message_text

log = logging.getLogger(__name__)

JSON = dict[str, Any]
BOT_ID = 7000000
MAX_TEXT = 4096
# Form fields PTB sends as JSON strings; only these are decoded, so a text starting with "[" stays text.
JSON_FIELDS = {"reply_markup", "entities", "caption_entities", "allowed_updates", "commands", "scope",
               "link_preview_options", "reply_parameters"}


@dataclass(frozen=True)
class ConsoleUser:
    id: int
    first_name: str

    def as_json(self) -> JSON:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": "en"}


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


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


Handler = Callable[[JSON], Awaitable[Any]]


class LocalBotApi:
    """The Bot API for one console chat; `events` is what the terminal renders."""

    def __init__(self, user: ConsoleUser, files_dir: Path) -> None:
        self.user = user
        self.files_dir = files_dir
        # Random per run: the server is on loopback, but other local users must not read the chat.
        self.token = f"{BOT_ID}:{secrets.token_urlsafe(24)}"
        self.events: asyncio.Queue[ChatEvent] = asyncio.Queue()
        self.messages: dict[int, ChatMessage] = {}
        self.commands: list[JSON] = []
        self._updates: list[JSON] = []
        self._arrived = asyncio.Event()
        self._closing = False
        self._next_update = 1
        self._next_message = 1
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._methods: dict[str, Handler] = {
            "getme": self._get_me, "getupdates": self._get_updates, "deletewebhook": self._true,
            "getwebhookinfo": self._webhook_info, "setmycommands": self._set_commands,
            "getmycommands": self._get_commands, "deletemycommands": self._true, "sendchataction": self._true,
            "sendmessage": self._send_message, "editmessagetext": self._edit_text,
            "editmessagereplymarkup": self._edit_markup, "answercallbackquery": self._answer_callback,
            "deletemessage": self._delete_message, "senddocument": self._send_document,
        }

    # ---- lifecycle --------------------------------------------------------------------------------
    @property
    def root(self) -> str:
        """The TELEGRAM_API_URL for FlyO: requests go to {root}/bot{token}/{method}."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def bot_user(self) -> JSON:
        return {"id": BOT_ID, "is_bot": True, "first_name": "FlyO", "username": "flyo_console_bot",
                "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)  # sendDocument uploads up to 50 MB
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # shutdown_timeout: close() has already released every long poll, nothing worth waiting for
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        self._closing = True
        self._arrived.set()  # a getUpdates long poll in flight returns at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- the person at the terminal ---------------------------------------------------------------
    @property
    def chat(self) -> JSON:
        return {"id": self.user.id, "type": "private", "first_name": self.user.first_name}

    def _user_message(self, **content: Any) -> JSON:
        message_id = self._next_message
        self._next_message += 1
        return {"message_id": message_id, "date": int(time.time()), "chat": self.chat,
                "from": self.user.as_json(), **content}

    def send_text(self, text: str) -> None:
        message = self._user_message(text=text)
        if text.startswith("/"):  # CommandHandler only fires on a bot_command entity, as real clients send
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command.encode("utf-16-le")) // 2}]
        self._enqueue({"message": message})

    def share_contact(self, phone: str) -> None:
        contact = {"phone_number": phone, "first_name": self.user.first_name, "user_id": self.user.id}
        self._enqueue({"message": self._user_message(contact=contact)})

    def tap(self, message_id: int, data: str) -> None:
        stored = self.messages.get(message_id)
        query: JSON = {"id": secrets.token_hex(8), "from": self.user.as_json(), "chat_instance": "console",
                       "data": data}
        if stored is not None:
            query["message"] = self._message_json(stored)
        self._enqueue({"callback_query": query})

    def _enqueue(self, content: JSON) -> None:
        self._updates.append({"update_id": self._next_update, **content})
        self._next_update += 1
        self._arrived.set()

    # ---- HTTP -------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"},
                                     status=401)
        method = self._methods.get(request.match_info["method"].lower())
        if method is None:
            log.warning("console Bot API: method %s is not implemented", request.match_info["method"])
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            params = await self._params(request)
            result = await method(params)
        except ApiError as exc:
            return web.json_response({"ok": False, "error_code": exc.code, "description": exc.description},
                                     status=exc.code)
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> JSON:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        if request.content_type.startswith("multipart/"):
            return await self._multipart(request)
        form = await request.post()  # PTB: form-encoded, or an empty body for methods without parameters
        return {key: self._decode(key, value) for key, value in form.items() if isinstance(value, str)}

    async def _multipart(self, request: web.Request) -> JSON:
        params: JSON = {}
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename:  # an upload: keep it where the person can open it
                self.files_dir.mkdir(parents=True, exist_ok=True)
                name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(part.filename).name) or "file"
                path = self.files_dir / f"{int(time.time())}-{name}"
                path.write_bytes(await part.read(decode=True))
                params[part.name] = path
            else:
                params[part.name] = self._decode(part.name, await part.text())
        return params

    @staticmethod
    def _decode(key: str, value: str) -> Any:
        if key in JSON_FIELDS:
            with contextlib.suppress(ValueError):
                return json.loads(value)
        return value

    # ---- methods ----------------------------------------------------------------------------------
    async def _true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return self.bot_user

    async def _webhook_info(self, params: JSON) -> JSON:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _set_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        self.commands = list(commands) if isinstance(commands, list) else []
        return True

    async def _get_commands(self, params: JSON) -> list[JSON]:
        return self.commands

    async def _get_updates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        if offset:  # Telegram: updates below the offset are confirmed and forgotten
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0 and not self._closing:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        limit = int(params.get("limit") or 100)
        return self._updates[:limit]

    def _check_chat(self, params: JSON) -> None:
        if str(params.get("chat_id", "")) != str(self.user.id):
            raise _bad("chat not found")  # the console has one chat; Telegram says this for strangers

    def _check_text(self, text: str, parse_mode: str | None, *, caption: bool = False) -> str:
        plain = message_text(text, parse_mode)
        if not plain.strip() and not caption:
            raise _bad("message text is empty")
        if len(plain) > (1024 if caption else MAX_TEXT):
            raise _bad("message caption is too long" if caption else "message is too long")
        return plain

    def _stored(self, params: JSON) -> ChatMessage:
        if "inline_message_id" in params:
            raise _bad("inline messages are not supported in the console")
        self._check_chat(params)
        stored = self.messages.get(int(params.get("message_id") or 0))
        if stored is None:
            raise _bad("message to edit not found")
        return stored

    def _new_message(self, text: str, parse_mode: str | None, markup: Any,
                     document: Path | None = None) -> JSON:
        markup = markup if isinstance(markup, dict) else None
        stored = ChatMessage(self._next_message, text, parse_mode, markup, int(time.time()),
                             document=document)
        self._next_message += 1
        self.messages[stored.message_id] = stored
        self.events.put_nowait(ChatEvent("sent", stored))
        return self._message_json(stored)

    def _message_json(self, stored: ChatMessage) -> JSON:
        out: JSON = {"message_id": stored.message_id, "date": stored.date, "chat": self.chat,
                     "from": self.bot_user}
        text = message_text(stored.text, stored.parse_mode)
        if stored.document is not None:
            out["document"] = {"file_id": f"console-{stored.message_id}",
                               "file_unique_id": str(stored.message_id), "file_name": stored.document.name,
                               "file_size": stored.document.stat().st_size}
            if text:
                out["caption"] = text
        else:
            out["text"] = text
        if stored.edited:
            out["edit_date"] = int(time.time())
        if stored.markup and "inline_keyboard" in stored.markup:  # only inline keyboards belong to a message
            out["reply_markup"] = stored.markup
        return out

    async def _send_message(self, params: JSON) -> JSON:
        self._check_chat(params)
        text, mode = str(params.get("text", "")), params.get("parse_mode")
        self._check_text(text, mode)
        return self._new_message(text, mode, params.get("reply_markup"))

    async def _send_document(self, params: JSON) -> JSON:
        self._check_chat(params)
        document = params.get("document")
        if not isinstance(document, Path):
            raise _bad("there is no document in the request")  # file ids and URLs: not in the console
        caption, mode = str(params.get("caption", "")), params.get("parse_mode")
        self._check_text(caption, mode, caption=True)
        return self._new_message(caption, mode, params.get("reply_markup"), document)

    def _edited(self, stored: ChatMessage, text: str, mode: str | None, markup: Any) -> JSON:
        markup = markup if isinstance(markup, dict) else None
        if (text, mode, markup) == (stored.text, stored.parse_mode, stored.markup):
            # Telegram refuses a no-op edit with exactly this error; FlyO's handlers expect and skip it.
            raise _bad("message is not modified: specified new message content and reply markup are exactly "
                       "the same as a current content and reply markup of the message")
        stored.text, stored.parse_mode, stored.markup, stored.edited = text, mode, markup, True
        self.events.put_nowait(ChatEvent("edited", stored))
        return self._message_json(stored)

    async def _edit_text(self, params: JSON) -> JSON:
        stored = self._stored(params)
        text, mode = str(params.get("text", "")), params.get("parse_mode")
        self._check_text(text, mode)
        return self._edited(stored, text, mode, params.get("reply_markup"))

    async def _edit_markup(self, params: JSON) -> JSON:
        stored = self._stored(params)
        return self._edited(stored, stored.text, stored.parse_mode, params.get("reply_markup"))

    async def _answer_callback(self, params: JSON) -> bool:
        text = str(params.get("text") or "")
        if text:
            alert = str(params.get("show_alert", "")).lower() in ("true", "1")
            self.events.put_nowait(ChatEvent("notice", text=text, alert=alert))
        return True

    async def _delete_message(self, params: JSON) -> bool:
        self._check_chat(params)
        stored = self.messages.pop(int(params.get("message_id") or 0), None)
        if stored is None:
            raise _bad("message to delete not found")
        self.events.put_nowait(ChatEvent("deleted", stored))
        return True
