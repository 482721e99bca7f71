"""The chat as the person at the terminal sees it: bot messages in, typed lines and taps out.

Typed numbers tap the newest keyboard on screen (the latest rendered, edits included), as the thumb would
in Telegram; anything else is sent as a message. `pay` opens the demo checkout page and presses its POST
button (the page alone pays nothing); new e-mails in the outbox are announced so the traveller sees the
confirmation e-mail next to the confirmation message.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import html
import json
import logging
import re
import time
from collections.abc import Callable
from email.parser import BytesHeaderParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.console.bot_api import ChatEvent, ChatMessage, LocalBotApi
from bot.console.render import DEMO_PHONE, Keyboard, Tap, html_to_text, render_keyboard, render_message
from bot.console.terminal import QUIT, Screen

log = logging.getLogger(__name__)

DEMO_CHECKOUT = "/demo/checkout/"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
QUIET_SECONDS = 0.3  # a reply is "complete" once the bot has been quiet this long
REPLY_WAIT_SECONDS = 8.0


def shown_path(path: Path) -> str:
    """Relative to the working directory when below it (var/outbox/…), else absolute."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path.resolve())


class ChatView:
    def __init__(self, api: LocalBotApi, screen: Screen, outbox: Path) -> None:
        self.api = api
        self.screen = screen
        self.style = screen.style
        self.outbox = outbox
        self.keyboards: list[tuple[int, Keyboard]] = []  # newest last; numbers tap the last one
        self.awaiting_contact = False
        self.last_activity = 0.0
        self.bot_messages = 0
        self._paying = False
        self.reply_wait = REPLY_WAIT_SECONDS
        self._seen_mail = set(self._mail_files())
        self._activity = asyncio.Event()

    # ---- what the bot does ------------------------------------------------------------------------
    async def pump(self) -> None:
        while True:
            event = await self.api.events.get()
            try:
                self.show_event(event)
            except Exception:  # one message the renderer cannot show must not mute the rest of the chat
                log.exception("console could not render %s", event)
                self.screen.show("  (FlyO sent something the console cannot show; see the log)")

    def show_event(self, event: ChatEvent) -> None:
        self.last_activity = time.monotonic()
        self._activity.set()
        if event.kind == "notice":
            mark = "⚠️ " if event.alert else "💬"
            self.screen.show(f"  {mark} {self.style.dim(event.text) if not event.alert else event.text}")
            return
        message = event.message
        assert message is not None
        self.keyboards = [(mid, kb) for mid, kb in self.keyboards if mid != message.message_id]
        if event.kind == "deleted":
            self.screen.show(self.style.dim("  (FlyO deleted a message)"))
            return
        self.bot_messages += 1
        self.screen.show(self._render(message, edited=event.kind == "edited"))

    def _render(self, message: ChatMessage, *, edited: bool) -> str:
        markup = message.markup or {}
        if markup.get("remove_keyboard"):
            self.keyboards = [(mid, kb) for mid, kb in self.keyboards if not kb.reply]
        keyboard = render_keyboard(markup, self.style)
        if keyboard is not None:
            if keyboard.reply:  # one reply keyboard at a time, as in Telegram
                self.keyboards = [(mid, kb) for mid, kb in self.keyboards if not kb.reply]
            self.keyboards.append((message.message_id, keyboard))
        saved = "" if message.document is None else (
            f"📎 {message.document.name} saved as {shown_path(message.document)}")
        if saved and not message.text.strip():  # a file without a caption: the file is the message
            return "\n" + render_message(saved, None, keyboard, self.style, edited=edited, width=self.screen.width)
        text = render_message(message.text, message.parse_mode, keyboard, self.style, edited=edited,
                              width=self.screen.width)
        if saved:
            text += f"\n      {saved}"
        return "\n" + text

    async def settle(self, since: float) -> None:
        """Wait for the bot's answer to what was just sent, then for it to go quiet."""
        deadline = time.monotonic() + self.reply_wait
        while True:  # the first reply (a bot that never answers costs reply_wait, not forever)
            self._activity.clear()
            if self.last_activity >= since or time.monotonic() >= deadline:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._activity.wait(), deadline - time.monotonic())
        while time.monotonic() < deadline:  # then the rest of it: a turn often sends several messages
            self._activity.clear()
            try:
                await asyncio.wait_for(self._activity.wait(), QUIET_SECONDS)
            except TimeoutError:
                return

    # ---- what the person types --------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        return "phone › " if self.awaiting_contact else "you › "

    async def on_line(self, line: str) -> bool:
        """Handle one typed line; False means leave."""
        word = line.strip()
        if self.awaiting_contact and not word.startswith("/"):  # a command instead: the share is dropped
            self.awaiting_contact = False
            phone = word or DEMO_PHONE
            self._note(f"sharing {'the demo number ' if not word else ''}{phone}")
            await self._to_bot(lambda: self.api.share_contact(phone))
            return True
        self.awaiting_contact = False
        if not word:
            return True
        if word.lower() in QUIT:
            return False
        if word.lower() == "pay":
            await self.pay()
            return True
        if self.keyboards:
            message_id, keyboard = self.keyboards[-1]
            tap = keyboard.find(word)
            if tap is not None:
                await self.tap(message_id, keyboard, tap)
                return True
        await self._to_bot(lambda: self.api.send_text(line.strip()))
        return True

    async def tap(self, message_id: int, keyboard: Keyboard, tap: Tap) -> None:
        if keyboard.reply and keyboard.one_time:
            self.keyboards = [(mid, kb) for mid, kb in self.keyboards if kb is not keyboard]
        if tap.kind == "callback":
            self._note(f"tapped “{tap.label}”")
            await self._to_bot(lambda: self.api.tap(message_id, tap.value))
        elif tap.kind == "text":
            self._note(f"sent “{tap.label}”")
            await self._to_bot(lambda: self.api.send_text(tap.label))
        elif tap.kind == "contact":
            self.awaiting_contact = True
            self.screen.show(f"  📱 Which number should FlyO get? Type it with the country code, or press "
                             f"Enter to share the demo number {DEMO_PHONE} (a reserved, fictional number).")
        elif DEMO_CHECKOUT in tap.value:
            await self.pay(tap.value)
        else:
            self.screen.show(f"  🔗 Open this link in your browser: {tap.value}")

    def _note(self, text: str) -> None:
        self.screen.show(self.style.dim(f"  ↳ {text}"))

    async def _to_bot(self, send: Callable[[], None]) -> None:
        since = time.monotonic()
        send()
        await self.settle(since)

    # ---- demo payment -----------------------------------------------------------------------------
    def demo_link(self) -> str | None:
        """The demo checkout link of the newest bot message that has a link button."""
        for message in sorted(self.api.messages.values(), key=lambda m: m.message_id, reverse=True):
            rows = (message.markup or {}).get("inline_keyboard") or []
            urls = [str(b["url"]) for row in rows for b in row if isinstance(b, dict) and "url" in b]
            if urls:
                return next((u for u in urls if DEMO_CHECKOUT in u), None)
        return None

    async def pay(self, url: str | None = None) -> None:
        url = url or self.demo_link()
        if url is None:
            self.screen.show("  💳 There is no demo payment link in the chat. Confirm a booking first (with "
                             "STRIPE_SECRET_KEY set, open the Stripe link in your browser instead).")
            return
        self._note(f"opening the demo checkout {url}")
        since = time.monotonic()
        self._paying = True  # the watcher leaves the e-mail to us, to show it after the confirmation
        try:
            try:
                # As in a browser: the page (a GET changes nothing), then its "Pay (demo)" POST button.
                status, summary, body, url = await self._fetch("GET", url)
                self.screen.show(f"  💳 Demo checkout: {summary or f'HTTP {status}'}")
                if status != 200:
                    return
                action = _form_action(body)
                if action is None:
                    self.screen.show("  💳 The demo checkout page has no Pay button.")
                    return
                self._note("pressing “Pay (demo)”")
                status, summary, _, _ = await self._fetch("POST", urljoin(url, action))
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                self.screen.show(f"  💳 The demo checkout could not be opened: {exc}")
                return
            answer = f"HTTP {status}: {summary}" if summary else f"HTTP {status}"
            self.screen.show(f"  💳 Demo checkout answered {answer}")
            await self.settle(since)
            if status < 400:
                for _ in range(50):  # the e-mail is written by the same webhook; give it a few seconds
                    if self._new_mail():
                        break
                    await asyncio.sleep(0.1)
                self._announce_mail("Confirmation e-mail")
        finally:
            self._paying = False

    async def _fetch(self, method: str, url: str) -> tuple[int, str, str, str]:
        """GET or POST on loopback only, following at most 3 redirects that stay on loopback (as GETs).

        Returns the status, a one-line summary, the body and the final URL."""
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for _hop in range(4):
                if urlsplit(url).hostname not in LOOPBACK:
                    raise ValueError(f"{url} is not on this machine; open it in your browser")
                async with session.request(method, url, allow_redirects=False) as response:
                    location = response.headers.get("Location")
                    if response.status in (301, 302, 303, 307, 308) and location:
                        url = urljoin(url, location)
                        method = method if response.status in (307, 308) else "GET"
                        continue
                    body = await response.text(errors="replace")
                    return response.status, _summary(body, response.content_type), body, url
        raise ValueError("too many redirects")

    # ---- e-mail outbox ----------------------------------------------------------------------------
    def _mail_files(self) -> list[Path]:
        return sorted(self.outbox.rglob("*.eml")) if self.outbox.is_dir() else []

    def _new_mail(self) -> list[Path]:
        return [p for p in self._mail_files() if p not in self._seen_mail]

    def _announce_mail(self, label: str) -> None:
        for path in sorted(self._new_mail(), key=lambda p: p.stat().st_mtime):
            self._seen_mail.add(path)
            self.screen.show(f"\n📧 {label}: {shown_path(path)}{_mail_headers(path)}")

    async def watch_outbox(self) -> None:
        """E-mails the traveller did not trigger with `pay` (Stripe test mode, admin /resend, reminders)."""
        while True:
            await asyncio.sleep(0.5)
            if self._paying or not self._new_mail():
                continue
            for _ in range(50):  # after the bot's message about the e-mail, not in the middle of it
                if time.monotonic() - self.last_activity >= QUIET_SECONDS or self._paying:
                    break
                await asyncio.sleep(0.1)
            if not self._paying:
                self._announce_mail("E-mail")


def _mail_headers(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            headers = BytesHeaderParser(policy=email.policy.default).parse(handle)  # decodes =?utf-8?...
    except OSError:
        return ""
    parts = [f"to {headers['To']}" if headers["To"] else "",
             f"“{headers['Subject']}”" if headers["Subject"] else ""]
    shown = " · ".join(p for p in parts if p)
    return f" ({shown})" if shown else ""


def _form_action(page: str) -> str | None:
    """Where the page's POST form goes ("" = the page itself), or None when it has no POST form."""
    form = re.search(r"<form\b[^>]*>", page, re.IGNORECASE)
    if form is None or not re.search(r"method\s*=\s*[\"']?post", form.group(0), re.IGNORECASE):
        return None
    action = re.search(r"action\s*=\s*[\"']([^\"']*)[\"']", form.group(0), re.IGNORECASE)
    return html.unescape(action.group(1)) if action else ""


def _summary(body: str, content_type: str) -> str:
    if content_type == "application/json":
        with contextlib.suppress(ValueError):
            return json.dumps(json.loads(body), ensure_ascii=False)[:300]
    text = html_to_text(body) if "html" in content_type else body
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return " · ".join(line for line in lines if line)[:300]

