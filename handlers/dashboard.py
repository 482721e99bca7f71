"""Admin /dashboard: a button that opens the analytics Mini App (issue #19), or why there is none."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo
from telegram.ext import Application, CommandHandler, filters

from handlers.admin import admin_only
from handlers.context import FlyOContext
from handlers.turn import Turn
from services.audit import audit
from services.mini_apps import mini_app_link

DASHBOARD_PATH = "/app/dashboard/"
LABEL = "📊 Open dashboard"
NO_HTTPS = ("📊 The dashboard is a Telegram Mini App, and Telegram opens Mini Apps only over HTTPS: set "
            "<code>PUBLIC_URL</code> to this FlyO's https address to offer it. Meanwhile, /stats has the numbers.")


async def open_dashboard(turn: Turn, args: list[str]) -> None:
    """The admin gets a button that opens the dashboard (in Telegram a Mini App; in the terminal chat a link)."""
    svc = turn.svc
    link = mini_app_link(svc.settings, svc.clock, DASHBOARD_PATH, {}, user_id=turn.user_id,
                         first_name=turn.first_name)
    if link is None:
        await audit(svc.clock, turn.user_id, "dashboard", "", "refused", "PUBLIC_URL is not https")
        turn.say(NO_HTTPS)
        return
    button = InlineKeyboardButton(LABEL, web_app=WebAppInfo(link.url)) if link.in_telegram else \
        InlineKeyboardButton(LABEL, url=link.url)
    await audit(svc.clock, turn.user_id, "dashboard", "", "offered")
    turn.say("📊 Bookings, revenue, conversion, load factor and payment health, with charts and a CSV export.",
             InlineKeyboardMarkup([[button]]))


_admin_dashboard = admin_only("dashboard", open_dashboard)


async def dashboard_command(update: Update, context: FlyOContext) -> None:
    """Admins get the dashboard's button; anyone else gets a refusal, and the attempt is audited."""
    await _admin_dashboard(update, context)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("dashboard", dashboard_command, filters=filters.ChatType.PRIVATE))
