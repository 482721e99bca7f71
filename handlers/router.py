"""One entry point per update kind: load the chat's state from MongoDB, dispatch on its step, save, reply.

Why not ConversationHandler: its state lives in process memory. Here every update reads the chat's
document, so restarts and replicas continue any chat where it was (see services.conversations).
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import re
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pymongo.errors import PyMongoError
from telegram import CallbackQuery, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from handlers import passengers, payment, review, search, seats
from handlers.context import FlyOContext
from handlers.errors import COULD_NOT_SHOW
from handlers.turn import Turn, parse_callback
from services.conversations import StaleConversation
from services.metrics import timed_turn

log = logging.getLogger(__name__)

UNAVAILABLE = "⏳ FlyO is temporarily unavailable. Please try again in a moment — nothing you entered is lost."
PRESS_FAILED = "😕 Something went wrong — please try again."

Action = Callable[[Turn, str], Awaitable[None]]


def _noarg(fn: Callable[[Turn], Awaitable[None]]) -> Action:
    async def call(turn: Turn, _arg: str) -> None:
        await fn(turn)
    return call


# action -> (steps in which the button is valid, handler)
CALLBACKS: dict[str, tuple[frozenset[str], Action]] = {
    "org": (frozenset({"ask_origin"}), search.on_origin_pick),
    "dst": (frozenset({"ask_destination"}), search.on_destination_pick),
    "cal": (frozenset({"ask_date"}), lambda t, a: search.prompt_date(t, a, edit=True)),
    "day": (frozenset({"ask_date", "results"}), search.on_date_pick),
    "px": (frozenset({"ask_passengers"}), lambda t, a: search.on_passengers(t, a)),
    "sort": (frozenset({"results"}), search.on_sort),
    "pg": (frozenset({"results"}), search.on_page),
    "shift": (frozenset({"results"}), search.on_shift_day),
    "fl": (frozenset({"results"}), seats.on_flight_pick),
    "s": (frozenset({"seats"}), seats.on_seat),
    "x": (frozenset({"seats"}), seats.on_taken),
    "sp": (frozenset({"seats"}), seats.on_seat_page),
    "auto": (frozenset({"seats"}), _noarg(seats.on_auto)),
    "sd": (frozenset({"seats"}), _noarg(seats.on_seats_done)),
    "back": (frozenset({"seats"}), lambda t, a: search.show_results(t)),
    "skip": (frozenset({"pax"}), _noarg(passengers.on_skip)),
    "rv": (frozenset({"review"}), review.on_review),
    "agree": (frozenset({"review"}), review.on_agree),  # consent to a re-priced fare
}
# Buttons valid whatever the conversation step (sent by notifications, carry their own target): flow "*".
EXTRA_CALLBACKS: dict[str, tuple[frozenset[str], Action]] = {
    "pay": (frozenset(), payment.on_pay),
    "new": (frozenset(), payment.on_new_search),
}


async def reprompt(turn: Turn) -> None:
    """Say again what the current step needs, so an old button or stray text never leaves anyone lost."""
    step = turn.conv.step
    if step == "ask_origin":
        await search.prompt_origin(turn)
    elif step == "ask_destination":
        await search.prompt_destination(turn)
    elif step == "ask_date":
        await search.prompt_date(turn)
    elif step == "ask_passengers":
        await search.prompt_passengers(turn)
    elif step == "results":
        await search.show_results(turn)
    elif step == "seats":
        await seats.show_seat_map(turn)
    elif step == "pax":
        await passengers.ask_next(turn)
    elif step == "review":
        await review.show_review(turn)
    elif step == "booked":
        await payment.show_status(turn)
    else:
        turn.say("Send /search to find a flight, or /mybookings to see your bookings.")


async def on_text_step(turn: Turn, text: str) -> None:
    step = turn.conv.step
    if step == "ask_origin":
        await search.on_origin_text(turn, text)
    elif step == "ask_destination":
        await search.on_destination_text(turn, text)
    elif step == "ask_date":
        await search.on_date_text(turn, text)
    elif step == "ask_passengers":
        await search.on_passengers(turn, text)
    elif step == "pax":
        await passengers.on_answer(turn, text)
    elif len(text.split()) >= 3 and step in ("idle", "results", "booked", "review", "seats"):
        if not await search.one_line(turn, text):
            turn.say("I didn't understand that. " + _step_hint(step))
    else:
        turn.say(_step_hint(step))
        if step not in ("idle", "booked"):
            await reprompt(turn)


def _step_hint(step: str) -> str:
    return {
        "results": "Tap a fare to choose it, or send a new search like <code>LHR JFK 15 Dec 2</code>.",
        "seats": "Tap a seat on the map (or 🎲 Pick for me).",
        "review": "Use the buttons under the summary to confirm or change your booking.",
    }.get(step, "Send /search to find a flight, or type it in one line: <code>LHR JFK 15 Dec 2</code>.")


# ---- plumbing ------------------------------------------------------------------------------------
_chat_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


def chat_lock(chat_id: int) -> asyncio.Lock:
    """Updates of one chat run one at a time in this process (other processes: the revision check)."""
    lock = _chat_locks.get(chat_id)
    if lock is None:
        lock = asyncio.Lock()
        _chat_locks[chat_id] = lock
    return lock


@timed_turn  # flyo_handler_duration_seconds: what the traveller waits, lock wait and replies included
async def run_turn(update: Update, context: FlyOContext, body: Callable[[Turn], Awaitable[None]]) -> None:
    """Load state, run `body`, save with a revision check (retry once on a concurrent save), reply.

    A button press is always answered exactly once, whatever happens: an unanswered callback query
    keeps the button's spinner going on the traveller's screen.
    """
    chat = update.effective_chat
    user = update.effective_user
    query = update.callback_query
    if chat is None or user is None:
        if query is not None:  # e.g. a button under an inline-mode message: nothing to run, still answer
            await _answer(query, None)
        return
    svc = context.bot_data.services
    answered = False
    try:
        async with chat_lock(chat.id):
            for attempt in range(3):
                try:
                    conv = await svc.conversations.load(chat.id, user.id)
                    turn = Turn(svc=svc, conv=conv, user_id=user.id, chat_id=chat.id, first_name=user.first_name,
                                text=update.effective_message.text if update.effective_message else None,
                                contact=update.effective_message.contact if update.effective_message else None,
                                query=query, is_admin=user.id in svc.settings.ADMIN_IDS)
                    await body(turn)
                    await svc.conversations.save(turn.conv)
                    break
                except StaleConversation:
                    if attempt == 2:
                        raise
                    continue  # another replica answered this chat a moment ago: redo on fresh state
                except PyMongoError:
                    log.warning("database unavailable while handling an update", exc_info=True)
                    if query is not None:
                        answered = True
                        await _answer(query, UNAVAILABLE[:190], alert=True)
                    else:
                        await context.bot.send_message(chat.id, UNAVAILABLE)
                    return
        if query is not None:
            answered = True
            await _answer(query, turn.notice, alert=turn.alert)
        await deliver(context, chat.id, turn, query.message if query else None)
    except Exception:
        if query is not None and not answered:
            await _answer(query, PRESS_FAILED)
        raise  # the error handler logs it and tells the traveller


async def _answer(query: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
    try:
        await query.answer(text=text[:200] if text else None, show_alert=alert)
    except TelegramError as exc:  # too old, or Telegram unreachable: the traveller still gets the reply
        log.info("callback answer failed: %s", exc)


async def deliver(context: FlyOContext, chat_id: int, turn: Turn, pressed: object) -> None:
    """Send the turn's replies; `edit` replies redraw the pressed message, unless it already shows them.

    A reply Telegram refuses (400: too long, bad markup…) is logged and replaced by one short apology,
    so the traveller is never left without an answer; the other replies still go out.
    """
    apologised = False
    message = pressed if isinstance(pressed, Message) else None
    shown = _shown_by(context)
    for out in turn.replies:
        try:
            if (out.edit and message is not None
                    and (out.markup is None or isinstance(out.markup, InlineKeyboardMarkup))
                    and await _edit(shown, message, out.text, out.markup)):
                continue
            sent = await context.bot.send_message(chat_id, out.text, parse_mode=ParseMode.HTML,
                                                  reply_markup=out.markup)
            shown.remember(sent)
        except BadRequest:
            log.error("Telegram refused a reply in chat %s", chat_id, exc_info=True)
            if not apologised:
                apologised = True
                await _send_quietly(context, chat_id, COULD_NOT_SHOW)


async def _edit(shown: ShownMessages, pressed: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Redraw `pressed`; False when it cannot be edited (then the caller sends a new message instead)."""
    wanted = _html_content_key(text, markup)
    if wanted is not None and wanted == shown.current(pressed):
        return True  # Telegram would answer 400 "message is not modified": nothing to do
    try:
        edited = await pressed.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            if wanted is not None:
                shown.confirm(pressed, wanted)
            return True
        if "too long" in str(exc).lower() or "can't parse" in str(exc).lower():
            raise  # a new message would be refused the same way
        log.info("edit failed (%s); sending a new message", exc)
        return False
    if isinstance(edited, Message):
        shown.remember(edited)
    return True


async def _send_quietly(context: FlyOContext, chat_id: int, text: str) -> None:
    try:
        await context.bot.send_message(chat_id, text)
    except TelegramError:
        log.warning("could not send even the short apology to chat %s", chat_id, exc_info=True)


# ---- what a message shows (to skip edits that change nothing) --------------------------------------
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


def _html_shown(text: str) -> tuple[str, list[Entity]] | None:
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
        _, start, url = stack.pop()
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


def _html_content_key(text: str, markup: InlineKeyboardMarkup | None) -> str | None:
    shown = _html_shown(text)
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


def _shown_by(context: FlyOContext) -> ShownMessages:
    """One record per running bot (message ids are only unique per chat and bot)."""
    application = context.application
    shown = _SHOWN.get(application)
    if shown is None:
        shown = _SHOWN[application] = ShownMessages()
    return shown


# ---- PTB callbacks -------------------------------------------------------------------------------
async def on_message(update: Update, context: FlyOContext) -> None:
    """Typed text or a shared contact: the answer to the current step."""
    async def body(turn: Turn) -> None:
        if turn.contact is not None:
            await passengers.on_contact(turn)
        elif turn.text:
            await on_text_step(turn, turn.text)
    await run_turn(update, context, body)


async def on_callback(update: Update, context: FlyOContext) -> None:
    """A tapped inline button; buttons of an earlier search or step get a short notice and the current step."""
    async def body(turn: Turn) -> None:
        assert turn.query is not None
        parsed = parse_callback(turn.query.data or "")
        if parsed is None:
            turn.notice = "This button is no longer active."
            await reprompt(turn)
            return
        flow, action, arg = parsed
        if action == "nop":
            return
        entry = CALLBACKS.get(action) or EXTRA_CALLBACKS.get(action)
        if entry is not None and flow == "*":  # flow-independent buttons (payment, admin)
            await entry[1](turn, arg)
            return
        if entry is None or flow != turn.conv.flow or turn.conv.step not in entry[0]:
            turn.notice = "That button is from an earlier step — here is where you are now."
            await reprompt(turn)
            return
        await entry[1](turn, arg)
    await run_turn(update, context, body)
