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
import copy
import json
import logging
import mimetypes
import time
from urllib.parse import urlsplit

from bot.console.bot_api_state import BotApiState
from bot.console.bot_api_values import Document, StoredMessage, UploadedFile
from bot.console.telegram_errors import JSON, ApiError, bad
from bot.console.telegram_rules import (
    CHAT_ACTIONS,
    COMMAND_RE,
    ERR_NOT_MODIFIED,
    ERR_POLL_CONFLICT,
    ERR_QUERY_TOO_OLD,
    ERR_WEBHOOK_ACTIVE,
    MAX_CALLBACK_ANSWER_LENGTH,
    as_int,
    check_markup,
    render_text,
)
from bot.console.telegram_text import normalise_parse_mode

log = logging.getLogger(__name__)

MIN_ALBUM, MAX_ALBUM = 2, 10  # sendMediaGroup: "an array describing messages to be sent, must include 2-10 items"


class BotApiCore(BotApiState):
    """The Bot API methods FlyO uses, with Telegram's results, limits and error texts."""

    def __init__(self, token: str, *, bot_first_name: str, bot_username: str, strict_chats: bool = True) -> None:
        BotApiState.__init__(self, token, bot_first_name=bot_first_name, bot_username=bot_username,
                             strict_chats=strict_chats)
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
            "sendMediaGroup": self._send_media_group,
            "deleteMessage": self._delete_message,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "close": self._true,
            "logOut": self._true,
        }.items():
            self._register(name, handler)

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
        markup = check_markup(params.get("reply_markup"), private=chat.wire.get("type") == "private")
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
        markup = check_markup(params.get("reply_markup"), private=chat.wire.get("type") == "private")
        content: JSON = {"document": self._document_wire(document)}
        if plain:
            content["caption"] = plain
        if entities:
            content["caption_entities"] = entities
        return self._new_message(chat, params, content, raw_text=str(caption or ""), parse_mode=parse_mode,
                                 markup=markup, document=document)

    async def _send_media_group(self, params: JSON) -> list[JSON]:
        """An album: 2-10 items, documents only with documents (the only kind FlyO sends), a caption each."""
        chat = self._resolve_chat(params)
        media = params.get("media")
        if isinstance(media, str):
            try:
                media = json.loads(media)
            except ValueError:
                raise bad("can't parse media JSON object") from None
        if not isinstance(media, list):
            raise bad("can't parse media JSON object")
        if not MIN_ALBUM <= len(media) <= MAX_ALBUM:
            raise bad("wrong number of messages in media group" if media else "media group is empty")
        if not all(isinstance(item, dict) for item in media):
            raise bad("can't parse InputMedia: media isn't an object")
        kinds = {item.get("type") for item in media}
        if kinds != {"document"}:
            if kinds & {"document", "audio"}:
                raise bad("document can't be mixed with other media types")
            raise bad(f"media type {sorted(map(str, kinds))[0]} is not supported here")
        prepared = []
        for item in media:  # every item is checked before any is sent: an album is all or nothing
            document = self._resolve_document({**params, "document": item.get("media")})
            plain, entities = render_text(item.get("caption"), normalise_parse_mode(item.get("parse_mode")),
                                          item.get("caption_entities"), caption=True)
            prepared.append((document, item, plain, entities))
        group_id = f"{next(self._file_ids):018d}"
        sent = []
        for document, item, plain, entities in prepared:
            content: JSON = {"document": self._document_wire(document), "media_group_id": group_id}
            if plain:
                content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
            sent.append(self._new_message(chat, params, content, raw_text=str(item.get("caption") or ""),
                                          parse_mode=normalise_parse_mode(item.get("parse_mode")), markup=None,
                                          document=document))
        return sent

    @staticmethod
    def _document_wire(document: Document) -> JSON:
        wire: JSON = {"file_id": document.file_id, "file_unique_id": f"U{document.file_id[-12:]}",
                      "file_size": len(document.content)}
        if document.filename:
            wire["file_name"] = document.filename
        if document.mime_type:
            wire["mime_type"] = document.mime_type
        return wire

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
