"""/language: the traveller chooses FlyO's language (English, Español, Deutsch) or goes back to following
Telegram's. The choice is the chat's (`Conversation.language`, read with every update by handlers.router.speak),
so every later message — in the chat, and the e-mails and reminders of bookings made from then on — uses it.

Buttons: "*:lng:<code>" ("*:lng:auto" to follow Telegram again), handled beside the router's catch-all.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from core.i18n import _, available_locales, current_locale, pick_locale, set_locale
from handlers.context import FlyOContext
from handlers.router import run_side_turn
from handlers.turn import Turn, callback_data, pressed

PATTERN = r"^\*:lng:"
AUTO = "auto"
# Each language by its own name: a traveller who can't read the current one still finds theirs.
NAMES = {"en": "English", "es": "Español", "de": "Deutsch"}


def _languages() -> list[str]:
    have = set(available_locales())
    return [code for code in NAMES if code in have]


def _menu(current: str, following_telegram: bool) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[InlineKeyboardButton(("✅ " if code == current and not following_telegram else "") + NAMES[code],
                                  callback_data=callback_data("*", "lng", code))] for code in _languages()]
    rows.append([InlineKeyboardButton(("✅ " if following_telegram else "") + _("Same as my Telegram app"),
                                      callback_data=callback_data("*", "lng", AUTO))])
    text = _("🌐 FlyO speaks {language}. Choose a language:").format(language=NAMES.get(current, current))
    return text, InlineKeyboardMarkup(rows)


async def language_command(update: Update, context: FlyOContext) -> None:
    async def body(turn: Turn) -> bool:
        text, markup = _menu(current_locale(), not turn.conv.language)
        turn.say(text, markup)
        return True

    await run_side_turn(update, context, body, what="/language")


async def on_callback(update: Update, context: FlyOContext) -> None:
    press = pressed(update)
    if press is None:
        return
    _action, code = press
    user = update.effective_user
    telegram_language = pick_locale(user.language_code if user else None)

    async def body(turn: Turn) -> bool:
        if code != AUTO and code not in _languages():
            turn.notice = _("That language is not available.")
            return False
        turn.conv.language = "" if code == AUTO else code
        chosen = telegram_language if code == AUTO else code
        set_locale(chosen)  # the answer is already in the new language
        await turn.svc.bookings.speak(turn.user_id, chosen)  # reminders, alerts and e-mails of their bookings too
        text, markup = _menu(chosen, code == AUTO)
        turn.notice = _("FlyO now speaks {language}.").format(language=NAMES[chosen])
        turn.say(text, markup, edit=True)
        return True

    await run_side_turn(update, context, body, what="a language button", save=True)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("language", language_command, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(on_callback, pattern=PATTERN))
