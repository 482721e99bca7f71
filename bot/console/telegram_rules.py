"""Telegram's rules as the Bot API enforces them: limits, error texts, message formatting, keyboards.

Pure functions, shared by the terminal chat's Bot API (`bot.console.bot_api`) and the tests' fake Bot API
(`tests/fakes/telegram.py`), so both refuse exactly what Telegram refuses: 4096 characters of *parsed* text,
64 bytes of callback data, 100 inline buttons, Telegram's HTML tags only (HTML / MarkdownV2 / Markdown are
parsed into text + entities, with UTF-16 offsets, as Telegram does), an edit that changes nothing. Error
descriptions are Telegram's own; the tail of "can't parse entities" messages is an approximation. The text
parsing itself is `bot.console.telegram_text`; the error reply, `bot.console.telegram_errors`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from bot.console.telegram_errors import JSON, ApiError, bad
from bot.console.telegram_text import normalise_parse_mode, parse_text, strip_text, u16len

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100

# Form values PTB sends verbatim (not JSON-encoded).  Everything else is JSON-decoded when possible,
# which turns "1111111" into 1111111, "true" into True and '{"inline_keyboard": ...}' into a dict.
STRING_PARAMS = frozenset(
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
FILE_PARAMS = frozenset({"document", "photo", "audio", "video", "voice", "thumbnail", "certificate"})
# Nested objects some (non-PTB) clients still JSON-encode inside an application/json body.
JSON_PARAMS = frozenset(
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

INLINE_BUTTON_ACTIONS = frozenset(
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
CHAT_ACTIONS = frozenset(
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
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

DEFAULT_DESCRIPTIONS = {
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
ERR_METHOD_NOT_FOUND = "Not Found: method not found"
ERR_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
ERR_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)


def update_kind(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def as_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad(f"invalid integer value {value!r}") from None



def decode_form_value(key: str, value: str) -> Any:
    """A form field as Telegram reads it: JSON (numbers, booleans, objects) unless it is a text field."""
    if key in STRING_PARAMS or key in FILE_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def render_text(text: Any, parse_mode: Any, entities: Any, *, caption: bool) -> tuple[str, list[JSON]]:
    """The text and entities a message shows; raises like Telegram when empty, too long or badly formatted."""
    limit = MAX_CAPTION_LENGTH if caption else MAX_MESSAGE_LENGTH
    if text is None or text == "":
        if caption:
            return "", []
        raise ApiError(400, ERR_TEXT_EMPTY)
    raw = str(text)
    mode = normalise_parse_mode(parse_mode)
    if mode is not None and entities:
        mode = None  # Telegram: explicit entities win over parse_mode
    plain, parsed = parse_text(raw, mode)
    if entities and isinstance(entities, list):
        parsed = [dict(e) for e in entities if isinstance(e, dict)]
    plain, parsed = strip_text(plain, parsed)
    if not plain and not caption:
        raise ApiError(400, ERR_TEXT_EMPTY)
    if u16len(plain) > limit:
        raise ApiError(400, ERR_CAPTION_TOO_LONG if caption else ERR_TOO_LONG)
    return plain, parsed


def check_markup(markup: Any, *, inline_only: bool = False, private: bool = True) -> JSON | None:
    """A reply_markup as Telegram accepts it (inline or reply keyboard, removal, force reply), else ApiError.
    `private`: the message is in a private chat (the only place Web App buttons are allowed)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"], private=private)
        return markup
    if inline_only:
        raise bad("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad("can't parse reply keyboard markup JSON object")
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad("can't parse reply keyboard markup JSON object")


def _check_web_app(button: JSON, *, private: bool) -> None:
    """InlineKeyboardButton.web_app: private chats only, and a WebAppInfo whose url is HTTPS (Bot API)."""
    if not private:
        raise bad("BUTTON_TYPE_INVALID")
    info = button["web_app"]
    url = info.get("url") if isinstance(info, dict) else None
    if not isinstance(url, str) or not url:
        raise bad("can't parse inline keyboard button: Field \"url\" must be of type String")
    if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
        raise bad(f"inline keyboard button Web App URL '{url}' is invalid: Only HTTPS links are allowed")


def _check_inline_keyboard(rows: Any, *, private: bool = True) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise bad("reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")):
                raise bad("can't parse inline keyboard button: Text must be non-empty")
            if not INLINE_BUTTON_ACTIONS.intersection(button):
                raise bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
            if "web_app" in button:
                _check_web_app(button, private=private)
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise ApiError(400, ERR_BUTTON_DATA_INVALID)
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or urlsplit(url).scheme not in {"http", "https", "tg"}:
                    raise bad("BUTTON_URL_INVALID")
