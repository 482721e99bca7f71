"""Loopback fake of the Telegram Bot API, for FlyO's end-to-end tests.

Why a fake server instead of mocking ``telegram.Bot``: FlyO talks to Telegram through the *real*
python-telegram-bot stack (HTTP client, request encoding, error mapping, polling / webhook plumbing).
Mocking the Bot object would skip exactly the layers that break in production -- form encoding, 64-byte
callback data, "message is not modified", flood control, blocked users.  This module serves the Bot API
over HTTP on 127.0.0.1 so the bot under test runs unmodified with ``TELEGRAM_API_URL`` pointed at it,
and it plays the *user's* side of the conversation through :class:`Traveller` objects.

The Bot API itself is the product's: :class:`bot.console.bot_api_core.BotApiCore` (request parsing of
PTB's form/multipart/JSON bodies, the chat and message store, the methods, long-polling) with Telegram's
limits and error texts from :mod:`bot.console.telegram_rules` -- the same server the terminal chat runs
FlyO against.  Its fidelity notes are there.  This module adds only what tests need:

* :class:`Traveller`: a user's view of a private chat -- send text, share a contact, press a button by its
  label, wait for the next sent/edited bot message (each traveller reads with its own cursor).
* Recording (:attr:`FakeTelegram.calls`, :meth:`~FakeTelegram.wait_for_call`) and fault injection
  (:meth:`~FakeTelegram.fail_next`, e.g. 429 with ``retry_after``).
* Strictness checks: :meth:`~FakeTelegram.unanswered_callbacks` lists presses whose client would still be
  spinning (the shared ``telegram`` fixture fails a test that leaves one), and
  :meth:`~FakeTelegram.not_modified_edits` the wasted "message is not modified" edits.
* Webhook mode: ``setWebhook`` and delivery to a loopback URL with the secret header, retries and
  per-chat order (the terminal chat only polls).
"""

from __future__ import annotations

import asyncio
import copy
import html
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

import aiohttp

from bot.console.bot_api_core import BotApiCore
from bot.console.bot_api_values import (
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
from bot.console.telegram_rules import DEFAULT_DESCRIPTIONS, ERR_NOT_MODIFIED, as_int
from bot.console.telegram_text import parse_html, parse_text, strip_text

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

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Telegram's reading of formatted text, for tests that compare FlyO's own reading with it.
_parse_html = parse_html
_strip_text = strip_text


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
class Button:
    """An inline keyboard button as the traveller sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    web_app: str | None = None  # the Mini App's URL of a web_app button


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
            plain, _ = parse_text(self.text, self.parse_mode)
        except ApiError:
            plain = html.unescape(re.sub(r"<[^>]*>", "", self.text))
        return plain

    @property
    def has_inline_keyboard(self) -> bool:
        """Whether there is anything to press."""
        return any(self.buttons)


# --------------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------------


@dataclass
class _Fault:
    code: int
    description: str
    retry_after: int | None
    remaining: int

    def error(self) -> ApiError:
        params: JSON | None = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return ApiError(self.code, self.description, params)


class _Chat(Chat):
    """A private chat plus the bot-side event log travellers read, and a wakeup signal."""

    def __init__(self, chat_id: int, first_name: str, last_name: str | None, username: str | None) -> None:
        super().__init__(chat_id, first_name, last_name, username)
        self.events: list[BotMessage] = []
        self.signal = Signal()


def _record(pending: PendingCallback) -> CallbackQueryRecord:
    return CallbackQueryRecord(
        query_id=pending.query_id,
        user_id=pending.user_id,
        chat_id=pending.chat_id,
        message_id=pending.message_id,
        data=pending.data,
        answers=len(pending.answers),
        rejected_answers=pending.rejected,
        answer_texts=[answer.get("text") for answer in pending.answers],
    )


def _inline_rows(markup: JSON | None) -> list[list[Button]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        [Button(str(b.get("text", "")), b.get("callback_data"), b.get("url"),
                (b.get("web_app") or {}).get("url")) for b in row]
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
        language_code: str | None = "en",
    ) -> None:
        self._fake = fake
        self._chat = chat
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.user = User(user_id, first_name, last_name, username, language_code)
        self.callback_answers: list[dict[str, Any]] = []
        self._cursor = 0

    @property
    def chat_id(self) -> int:
        """Private chat id; equals the user id, as on real Telegram."""
        return self._chat.chat_id

    def user_dict(self) -> JSON:
        """The ``from`` object real clients attach to this user's messages and callback queries."""
        return self.user.as_json()

    async def send(self, text: str) -> JSON:
        """Type ``text``; a leading ``/word`` gets the bot_command entity PTB's CommandHandler needs."""
        update = self._fake.user_sends_text(self._chat, self.user, text)
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
        update = self._fake.user_shares_contact(self._chat, self.user, contact)
        await asyncio.sleep(0)
        return update

    def _press_target(self, message: BotMessage | int | None) -> StoredMessage:
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
        update = self._fake.user_presses(self._chat, self.user, data, message_id)
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


FLOOD_COUNTED = frozenset({"sendmessage", "senddocument", "sendmediagroup", "sendphoto", "editmessagetext"})


class FakeTelegram(BotApiCore, LoopbackServer):
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
        LoopbackServer.__init__(self)
        BotApiCore.__init__(self, token, bot_first_name=bot_first_name, bot_username=bot_username,
                            strict_chats=strict_chats)
        self.webhook_retries = webhook_retries
        self.calls: list[Call] = []
        self.webhook_deliveries: list[WebhookDelivery] = []

        self._webhook_max_connections = 40
        self._webhook_last_error: tuple[int, str] | None = None
        self._faults: dict[str, list[_Fault]] = {}
        # Flood control as Telegram applies it to a bot broadcasting: at most `flood_limit` messages a second
        # across all chats (Telegram: about 30), beyond that 429 "retry after N" (`flood_limit` None: off).
        self.flood_limit: int | None = None
        self._sent_at: deque[float] = deque()
        self._travellers: dict[int, Traveller] = {}
        self._calls_signal = Signal()
        self._deliveries_signal = Signal()
        self._in_flight = 0
        self._delivery_tail: dict[int, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._semaphore: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None
        self._register("setWebhook", self._set_webhook)

    # ---- lifecycle -----------------------------------------------------------------------------

    # start()/stop()/``async with``/``url``/``port`` come from LoopbackServer (127.0.0.1 only, free port);
    # the application (``/bot{token}/{method}``) from BotApiCore.
    async def _started(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._semaphore = asyncio.Semaphore(self._webhook_max_connections)
        self._closing = False

    async def _stopping(self) -> None:
        """Release long-polls first so the server can shut down without waiting out their timeouts."""
        self._release_polls()
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
        language_code: str | None = "en",
    ) -> Traveller:
        """The user ``user_id`` with an open private chat (chat.id == user_id); same object on repeat."""
        existing = self._travellers.get(user_id)
        if existing is not None:
            return existing
        chat = self._view(self.open_chat(User(user_id, first_name, last_name, username, language_code)))
        traveller = Traveller(self, chat, user_id, first_name, last_name, username, language_code)
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
                description = DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
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
        return _record(pending)

    def callback_queries(self) -> list[CallbackQueryRecord]:
        """Every press by every traveller, in press order."""
        return [_record(pending) for pending in self._callbacks.values()]

    def unanswered_callbacks(self) -> list[CallbackQueryRecord]:
        """Presses the bot never answered: on a real client, the button would still show its spinner."""
        return [_record(pending) for pending in self._callbacks.values() if not pending.answered]

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
        return list(self._updates)

    # ---- recording and faults ------------------------------------------------------------------

    async def _dispatch(self, token: str, method: str, params: JSON) -> Any:
        """Record every call (even refused ones) for the tests' assertions."""
        call = Call(self.method_name(method), params, time.monotonic())
        self.calls.append(call)
        self._calls_signal.fire()
        try:
            result = await super()._dispatch(token, method, params)
        except ApiError as error:
            call.error_code, call.description = error.code, error.description
            self._calls_signal.fire()
            raise
        call.result = result
        self._calls_signal.fire()
        return result

    async def _invoke(self, name: str, handler: Handler, params: JSON) -> Any:
        fault = self._take_fault(name) or self._flooded(name)
        if fault is not None:
            raise fault
        return await handler(params)

    def _flooded(self, method: str) -> ApiError | None:
        """429 for a message over `flood_limit` in the last second (every sending method counts)."""
        if self.flood_limit is None or method.lower() not in FLOOD_COUNTED:
            return None
        now = time.monotonic()
        while self._sent_at and self._sent_at[0] <= now - 1.0:
            self._sent_at.popleft()
        if len(self._sent_at) >= self.flood_limit:
            return ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._sent_at.append(now)
        return None

    def _take_fault(self, method: str) -> ApiError | None:
        queue = self._faults.get(method.lower())
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault.error()

    # ---- the travellers' view ------------------------------------------------------------------

    def _new_chat(self, chat_id: int, first_name: str, last_name: str | None, username: str | None) -> Chat:
        return _Chat(chat_id, first_name, last_name, username)

    @staticmethod
    def _view(chat: Chat) -> _Chat:
        return cast(_Chat, chat)  # every chat of this server is made by _new_chat

    def _on_message(self, chat: Chat, stored: StoredMessage, event: MessageEvent) -> None:
        if event != "deleted":  # travellers read what the bot sent and edited
            self._record_event(self._view(chat), stored, edited=event == "edited")

    def _on_callback_answer(self, pending: PendingCallback | None, params: JSON) -> None:
        traveller = self._travellers.get(pending.user_id) if pending is not None else None
        if traveller is not None:
            traveller.callback_answers.append(params)

    def _record_event(self, chat: _Chat, stored: StoredMessage, *, edited: bool = False) -> None:
        chat.events.append(self._snapshot(stored, edited=edited))
        chat.signal.fire()

    def _snapshot(self, stored: StoredMessage, *, edited: bool | None = None) -> BotMessage:
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

    # ---- webhook mode ----------------------------------------------------------------------------

    def _enqueue_update(self, payload: JSON) -> JSON:
        if self.webhook_url is None:
            return super()._enqueue_update(payload)
        update: JSON = {"update_id": next(self._update_ids), **payload}
        if self._is_allowed(update):
            self._schedule_delivery(update)
        return update

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
                    self._updates.append(update)
                    self._updates.sort(key=lambda u: int(u["update_id"]))
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


    async def _set_webhook(self, params: JSON) -> bool:
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(str(url))
        if parts.scheme not in {"http", "https"} or parts.hostname not in _LOOPBACK_HOSTS:
            raise bad("bad webhook: the fake Telegram only delivers to http(s)://127.0.0.1")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise bad("secret token contains unallowed characters")
        self.webhook_url = str(url)
        self.webhook_secret = str(secret) if secret else None
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        max_connections = as_int(params.get("max_connections"), 40)
        if max_connections != self._webhook_max_connections:
            self._webhook_max_connections = max(1, min(100, max_connections))
            self._semaphore = asyncio.Semaphore(self._webhook_max_connections)
        pending, self._updates = self._updates, []
        if not params.get("drop_pending_updates"):
            for update in pending:
                self._schedule_delivery(update)
        self._updates_signal.fire()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        info = await super()._get_webhook_info(params)
        info["pending_update_count"] += self._in_flight
        if self.webhook_url:
            info["ip_address"] = "127.0.0.1"
            info["max_connections"] = self._webhook_max_connections
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
        if self._webhook_last_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info
