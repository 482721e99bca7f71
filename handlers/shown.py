"""What a message shows, to skip edits that change nothing (Telegram answers those with 400 "not modified").

FlyO reads its own HTML the way Telegram does (plain text + formatting entities) and remembers, per message,
what it last put there (`ShownMessages`), so a burst of taps on one message redraws it once.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Message, MessageEntity

from handlers.context import FlyOContext

# Formatting entities produced by parse_mode HTML. Telegram also adds entities it detects itself (links,
# /commands, e-mails…); they follow from the text, so comparing the text covers them.
_HTML_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
}
_FORMATTING = frozenset(_HTML_ENTITY_TYPES.values())
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*)>")
_HREF = re.compile(r"""^\s+href\s*=\s*(?:"([^"]*)"|'([^']*)')\s*$""")
_SPOILER_CLASS = re.compile(r"""^\s+class\s*=\s*(?:"tg-spoiler"|'tg-spoiler')\s*$""")

Entity = tuple[str, int, int, str]  # type, offset and length in UTF-16 units, url


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def html_shown(text: str) -> tuple[str, list[Entity]] | None:
    """The plain text and formatting entities Telegram shows for `text` in parse_mode HTML.

    None when unsure (a tag or attribute this reading does not cover): then the edit is simply sent.
    """
    parts: list[str] = []
    offset = 0
    stack: list[tuple[str, int, str]] = []
    entities: list[Entity] = []
    position = 0
    for tag in _TAG.finditer(text):
        chunk = html.unescape(text[position:tag.start()])
        parts.append(chunk)
        offset += _u16(chunk)
        position = tag.end()
        closing, name, attrs = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name not in _HTML_ENTITY_TYPES:
            return None
        if not closing:
            url = ""
            if name == "a":
                href = _HREF.match(attrs)
                if href is None:
                    return None
                url = html.unescape(href.group(1) if href.group(1) is not None else href.group(2))
            elif name == "span":
                if not _SPOILER_CLASS.match(attrs):
                    return None
            elif attrs.strip():
                return None
            stack.append((name, offset, url))
            continue
        if not stack or stack[-1][0] != name or attrs.strip():
            return None
        _name, start, url = stack.pop()
        if name == "code" and stack and stack[-1][0] == "pre":
            return None  # <pre><code class=…>: a language, not a code entity
        if offset > start:
            entities.append((_HTML_ENTITY_TYPES[name], start, offset - start, url))
    if stack:
        return None
    tail = html.unescape(text[position:])
    parts.append(tail)
    shown = "".join(parts)
    # Telegram trims the message; entities are cut to what remains.
    stripped = shown.strip()
    if stripped != shown:
        shift = _u16(shown[: len(shown) - len(shown.lstrip())])
        limit = _u16(stripped)
        trimmed: list[Entity] = []
        for kind, start, length, url in entities:
            begin, end = max(0, start - shift), min(limit, start + length - shift)
            if end > begin:
                trimmed.append((kind, begin, end - begin, url))
        entities = trimmed
    return stripped, entities


def _content_key(text: str, entities: list[Entity], markup: InlineKeyboardMarkup | None) -> str:
    rows = markup.to_dict() if markup is not None else None
    blob = json.dumps([text, sorted(entities), rows], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def html_content_key(text: str, markup: InlineKeyboardMarkup | None) -> str | None:
    shown = html_shown(text)
    return None if shown is None else _content_key(shown[0], shown[1], markup)


def _message_content_key(message: Message) -> str | None:
    if message.text is None:
        return None
    entities: Sequence[MessageEntity] = message.entities or ()
    kept = [(str(getattr(e.type, "value", e.type)), e.offset, e.length, e.url or "") for e in entities]
    return _content_key(message.text, [e for e in kept if e[0] in _FORMATTING], message.reply_markup)


def _stamp(message: Message) -> float:
    moment = message.edit_date or message.date
    return moment.timestamp() if moment is not None else 0.0


@dataclass(frozen=True)
class _Shown:
    key: str
    stamp: float  # Telegram's edit (or send) time of that content, in seconds


class ShownMessages:
    """What this process last put in each of its recent messages, for taps carrying an older snapshot.

    Telegram attaches the message *as it was when tapped*: in a burst of taps, every snapshot predates
    the first redraw. A snapshot no newer than our own last edit (Telegram's second-resolution clock)
    is stale, so our record wins; a newer one (another replica edited since) is trusted instead.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._shown: OrderedDict[tuple[int, int], _Shown] = OrderedDict()

    def remember(self, message: Message) -> None:
        key = _message_content_key(message)
        if key is not None:
            self._put((message.chat_id, message.message_id), _Shown(key, _stamp(message)))

    def confirm(self, pressed: Message, key: str) -> None:
        """Telegram said the message already shows `key` ("not modified")."""
        ident = (pressed.chat_id, pressed.message_id)
        known = self._shown.get(ident)
        self._put(ident, _Shown(key, max(_stamp(pressed), known.stamp if known else 0.0)))

    def current(self, pressed: Message) -> str | None:
        known = self._shown.get((pressed.chat_id, pressed.message_id))
        if known is not None and _stamp(pressed) <= known.stamp:
            return known.key
        return _message_content_key(pressed)

    def _put(self, ident: tuple[int, int], shown: _Shown) -> None:
        self._shown[ident] = shown
        self._shown.move_to_end(ident)
        while len(self._shown) > self.size:
            self._shown.popitem(last=False)


_SHOWN: weakref.WeakKeyDictionary[object, ShownMessages] = weakref.WeakKeyDictionary()


def shown_by(context: FlyOContext) -> ShownMessages:
    """One record per running bot (message ids are only unique per chat and bot)."""
    application = context.application
    shown = _SHOWN.get(application)
    if shown is None:
        shown = _SHOWN[application] = ShownMessages()
    return shown
