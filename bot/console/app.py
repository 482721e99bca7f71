"""`python -m bot console`: the real FlyO, its database and HTTP server, chatting in this terminal.

The production lifecycle (`bot.runtime.create_web_app`) runs unchanged in this process's event loop;
only TELEGRAM_API_URL and the token differ, pointing python-telegram-bot at `LocalBotApi` on loopback.
So every message here went through the same handlers, services and database as on Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time

from aiohttp import web

from bot.console.bot_api import ConsoleUser, LocalBotApi
from bot.console.chat import ChatView, shown_path
from bot.console.terminal import LineReader, Screen
from bot.db import DatabaseError, free_port
from bot.logs import setup_logging
from core.config import Settings

log = logging.getLogger(__name__)

CONSOLE_USER = ConsoleUser(id=7000001, first_name="Traveller")


def console_settings(settings: Settings, api_root: str, token: str, *, admin: bool) -> Settings:
    """The user's settings, with Telegram swapped for the local Bot API (always polling, never a webhook)."""
    update: dict[str, object] = {}
    if "HTTP_PORT" not in settings.model_fields_set:  # 8080 may be busy; a chosen port stays (stripe listen)
        update["HTTP_PORT"] = free_port()
    if admin:
        update["ADMIN_IDS"] = settings.ADMIN_IDS | {CONSOLE_USER.id}
    # Marks the Bot API as the console's own: only then may DEMO_PAYMENTS take effect (a real Stripe key wins).
    return settings.for_console(api_root, token, **update)


def banner(settings: Settings, *, admin: bool, style_bold: str) -> str:
    if settings.stripe_key:
        payments = ("Payments: Stripe TEST mode — open the payment link in your browser, pay with the test\n"
                    "    card 4242 4242 4242 4242. For the confirmation, forward Stripe's webhooks:\n"
                    f"    stripe listen --forward-to {settings.public_url}/webhooks/stripe")
    else:
        payments = ("Payments: DEMO mode (no STRIPE_SECRET_KEY) — no card, no money. When FlyO sends\n"
                    "    the payment link, type  pay  (or the link's number) to pay it.")
    mail = "SendGrid" if settings.sendgrid_key else f"files in {shown_path(settings.DATA_DIR / 'outbox')}/"
    lines = [
        style_bold,
        "This is the real FlyO bot — the same python-telegram-bot handlers, services and database as on",
        "Telegram — talking to a small Telegram stand-in on this machine. No accounts or keys needed.",
        f"  • {payments}",
        f"  • E-mails: {mail}.  Logs: {shown_path(settings.DATA_DIR / 'logs')}/",
        "  • Tap a button: type its number (seats also by code, e.g. 12A). Type messages and commands as in",
        "    Telegram: /search, /mybookings, /profile, /help.  Leave: /quit or Ctrl-D.  ↑/↓ recall earlier lines.",
    ]
    if admin:
        lines.append(f"  • You (user {CONSOLE_USER.id}) are an admin: /booking REF, /resend REF, "
                     "/cancel REF, /stats.")
    return "\n".join(lines)


def run_console(settings: Settings, admin: bool) -> int:
    """Chat with FlyO in this terminal until /quit, Ctrl-D or Ctrl-C; 0 on a clean exit."""
    # Log lines would tear the chat apart: they go to DATA_DIR/logs only.
    setup_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.DATA_DIR, console=False)
    logging.captureWarnings(True)  # library warnings (PTBUserWarning…) would otherwise print into the chat
    return asyncio.run(_console(settings, admin=admin))


async def _console(settings: Settings, *, admin: bool) -> int:
    screen = Screen()
    api = LocalBotApi(CONSOLE_USER, settings.DATA_DIR / "tickets")
    await api.start()
    flyo = console_settings(settings, api.root, api.token, admin=admin)
    screen.show(banner(flyo, admin=admin, style_bold=screen.style.bold("✈️  FlyO in your terminal")))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reader = LineReader(screen, settings.DATA_DIR / "console" / "history")
    background: list[asyncio.Task[None]] = []
    runner: web.AppRunner | None = None
    ready = False
    try:
        from bot.runtime import create_web_app  # heavy import after the banner: something shows at once

        runner = web.AppRunner(create_web_app(flyo), handle_signals=False, access_log=None)
        if not await _start(runner, flyo, screen):
            return 1
        ready = True
        view = ChatView(api, screen, flyo.DATA_DIR / "outbox")
        background = [asyncio.create_task(view.pump()), asyncio.create_task(view.watch_outbox())]
        commands = " · ".join(f"/{c.get('command')}" for c in api.commands)
        if commands:
            screen.show(screen.style.dim(f"Menu (from FlyO's setMyCommands): {commands}"))
        screen.show(screen.style.dim("↳ sending /start, like pressing START in Telegram"))
        since = time.monotonic()
        api.send_text("/start")
        await view.settle(since)
        reader.start()
        await _chat(view, reader, stop)
        return 0
    finally:
        for task in background:
            task.cancel()
        reader.stop()
        if ready:
            screen.show(screen.style.dim("Stopping FlyO…"))
        if runner is not None:
            try:  # Telegram updates stop first, the embedded database closes last
                await runner.cleanup()
            except Exception:  # the person is leaving; a shutdown error goes to the log only
                log.exception("console shutdown failed")
        await api.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if ready:
            screen.show("Bye! Your bookings are kept in " + shown_path(settings.DATA_DIR) + "/.")


async def _start(runner: web.AppRunner, settings: Settings, screen: Screen) -> bool:
    first = not settings.mongodb_uri and not (settings.DATA_DIR / "mongo").exists()
    screen.show(screen.style.dim(
        "Starting FlyO: database, services, bot…" + (" First start: loading the flight inventory "
                                                     "(about 20 seconds)." if first else "")))
    started = time.monotonic()
    try:
        await runner.setup()  # the whole production start-up: embedded DB, seeding, PTB initialize + polling
        await web.TCPSite(runner, settings.HTTP_HOST, settings.HTTP_PORT).start()
    except DatabaseError as exc:
        screen.show(f"flyo: {exc}")
        return False
    except Exception as exc:
        log.exception("console start-up failed")
        logs = shown_path(settings.DATA_DIR / "logs")
        screen.show(f"flyo: FlyO could not start: {exc} (details in {logs}/)")
        return False
    screen.show(screen.style.dim(f"Ready in {time.monotonic() - started:.1f} s · FlyO's HTTP server: "
                                 f"{settings.public_url}"))
    return True


async def _chat(view: ChatView, reader: LineReader, stop: asyncio.Event) -> None:
    stopping = asyncio.create_task(stop.wait())
    try:
        while True:
            line_task = asyncio.create_task(reader.read(view.prompt))
            await asyncio.wait({line_task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.done():
                line_task.cancel()
                view.screen.show("")
                return
            line = line_task.result()
            if line is None:  # Ctrl-D or the end of piped input
                view.screen.show("")
                return
            handling = asyncio.create_task(view.on_line(line))  # Ctrl-C must not wait for a slow reply
            await asyncio.wait({handling, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.done():
                handling.cancel()
                view.screen.show("")
                return
            if not handling.result():
                return
    finally:
        stopping.cancel()

