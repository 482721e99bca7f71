"""Builds the python-telegram-bot Application: handlers, typed context, start-up and shutdown hooks."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.telegram_request import AiohttpRequest
from bot.update_processor import InboxUpdateProcessor
from core.config import Settings
from core.i18n import DEFAULT_LOCALE, N_, available_locales, translate, use_locale
from handlers import commands, router
from handlers.context import BotData
from handlers.errors import on_error
from services.context import Services

log = logging.getLogger(__name__)

FlyOApplication = Application[Any, Any, Any, Any, Any, Any]

# The command menu, in each language FlyO speaks (Telegram shows a user the one for their app's language).
COMMAND_MENU = [
    ("search", N_("Find and book a flight")),
    ("mybookings", N_("Your bookings")),
    ("ticket", N_("Your e-ticket (PDF) and calendar file")),
    ("profile", N_("Your saved travellers and contact")),
    ("cancel", N_("Stop the current booking, or /cancel REF")),
    ("language", N_("Language: English, Español, Deutsch")),
    ("support", N_("Write to the FlyO team")),
    ("deleteme", N_("Delete your data from FlyO")),
    ("help", N_("What FlyO can do")),
]


def traveller_commands(locale: str = DEFAULT_LOCALE) -> list[BotCommand]:
    with use_locale(locale):
        return [BotCommand(name, translate(description)) for name, description in COMMAND_MENU]


TRAVELLER_COMMANDS = traveller_commands()


async def _post_init(app: FlyOApplication) -> None:
    await app.bot.set_my_commands(TRAVELLER_COMMANDS)
    for locale in available_locales():
        if locale != DEFAULT_LOCALE:
            await app.bot.set_my_commands(traveller_commands(locale), language_code=locale)
    app.bot_data.services.reference.bot_username = app.bot.username  # e-mails link to the chat
    log.info("telegram bot @%s ready", app.bot.username)


async def _post_shutdown(app: FlyOApplication) -> None:
    log.info("telegram application shut down")


def build_application(settings: Settings, services: Services, *, with_updater: bool = True) -> FlyOApplication:
    root = settings.TELEGRAM_API_URL.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .context_types(ContextTypes(context=CallbackContext, bot_data=BotData))
        # Different chats in parallel (one chat is serialised by handlers.router). Bounded, with a matching
        # HTTP pool: beyond a few dozen in flight, pool bookkeeping costs more than it gains.
        .concurrent_updates(32)
        # Bot API calls over aiohttp (half httpx's CPU per call); the pool lives in the request objects
        # (PTB refuses .connection_pool_size()/.pool_timeout() beside .request()). getUpdates gets its own
        # one-connection pool, as PTB's default; PTB adds the long-poll timeout to its read timeout.
        .request(AiohttpRequest(connection_pool_size=64, pool_timeout=10.0))
        .get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=5.0))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if not with_updater:
        builder = builder.updater(None)  # webhook mode: updates arrive through POST /webhooks/telegram
        if services.telegram_inbox is not None:  # … stored first, and marked done once handled
            builder = builder.concurrent_updates(InboxUpdateProcessor(32, services.telegram_inbox))
    if settings.TELEGRAM_RATE_LIMIT:
        # Telegram allows ~30 messages/s per bot (TELEGRAM_SEND_RATE: this replica's share); a 429 RetryAfter is
        # waited out and retried, not lost.
        # (type: FlyOContext is typed with ExtBot[None]; FlyO never passes per-call rate_limit_args.)
        limiter = AIORateLimiter(overall_max_rate=settings.TELEGRAM_SEND_RATE, overall_time_period=1, max_retries=5)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    app = builder.build()
    app.bot_data.services = services
    register_handlers(app)
    return app


def register_handlers(app: FlyOApplication) -> None:
    from handlers import (
        admin,
        dashboard,
        deleteme,
        flight_ops,
        language,
        mybookings,
        ops,
        profile,
        stats,
        support,
        tickets,
    )

    ops.register(app)  # group -1: flood control and blocked-chat tracking before any handler
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", commands.start, filters=private))
    app.add_handler(CommandHandler("help", commands.help_command, filters=private))
    app.add_handler(CommandHandler("search", commands.search_command, filters=private))
    app.add_handler(CommandHandler("cancel", commands.cancel_command, filters=private))
    app.add_handler(CommandHandler("mybookings", mybookings.my_bookings, filters=private))
    app.add_handler(CommandHandler("profile", profile.profile_command, filters=private))
    app.add_handler(CommandHandler("ticket", tickets.ticket_command, filters=private))
    admin.register(app)  # /booking, /resend
    flight_ops.register(app)  # /flight, /delay, /gate, /cancelflight
    stats.register(app)  # /stats
    dashboard.register(app)  # /dashboard (the analytics Mini App)
    support.register(app)  # /support, /reply, /find, /flagged
    # The cards' own buttons ("*:mb?:…"), before the router's catch-all.
    app.add_handler(CallbackQueryHandler(mybookings.on_callback, pattern=mybookings.PATTERN))
    app.add_handler(CallbackQueryHandler(profile.on_callback, pattern=profile.PATTERN))  # "*:pf?:…"
    language.register(app)  # /language and its "*:lng:…" buttons
    deleteme.register(app)  # /deleteme and its "*:dm?:…" card
    app.add_handler(CallbackQueryHandler(router.on_callback))
    # Typed text: first a /profile edit's answer, if one is pending (it then stops the update), else the router,
    # one group later (a filter cannot read the database, so the check is the handler's own).
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, profile.on_text))
    app.add_handler(MessageHandler(private & (filters.TEXT & ~filters.COMMAND | filters.CONTACT), router.on_message),
                    group=1)
    app.add_handler(MessageHandler(private & filters.COMMAND, commands.unknown_command))
    app.add_error_handler(on_error)
