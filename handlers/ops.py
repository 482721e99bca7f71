"""Runs before every other handler (group -1): counts the update, applies flood control, tracks blocks.

A user who sends more than FLOOD_MAX_UPDATES updates in FLOOD_WINDOW_SECONDS gets one polite
notice and is then ignored (ApplicationHandlerStop) until the window clears. A throttled button press
is still answered (with a "slow down" toast): an unanswered callback query keeps the button's spinner
going on the user's screen. A `my_chat_member`
update says the user blocked or restarted the bot; any other update proves the chat is open again.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo.errors import PyMongoError
from telegram import CallbackQuery, ChatMember, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from core.database import start_round_trip_scope
from core.i18n import N_, _, pick_locale, set_locale
from handlers.context import FlyOContext
from services import chat_status
from services.flights import start_update_memo
from services.flood import FloodGate, Gate, Verdict
from services.metrics import UPDATES, update_type

log = logging.getLogger(__name__)

FLOOD_WARNING = N_("You're sending messages very fast — please wait a few seconds.")
FLOOD_TOAST = N_("🐢 Slow down — you're tapping very fast. Please wait a few seconds.")


class UpdateGuard:
    """The group -1 TypeHandler callback; one per Application (its gate: this process's window or the shared one)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def __call__(self, update: Update, context: FlyOContext) -> None:
        kind = update_type(update)
        start_round_trip_scope()  # this update's database commands, counted until its turn ends (services.metrics)
        start_update_memo()  # and its flights, read once however often the step asks
        if update.my_chat_member is not None:
            UPDATES.labels(kind, "accepted").inc()
            await _on_my_chat_member(update)
            raise ApplicationHandlerStop
        user, chat = update.effective_user, update.effective_chat
        # Every handler of this update (and its error handler) runs in this task: it speaks the user's language.
        set_locale(pick_locale(user.language_code if user else None))
        if user is None:
            UPDATES.labels(kind, "accepted").inc()
            return
        verdict = await self.gate.verdict(user.id)
        if verdict is not Verdict.ACCEPT:
            UPDATES.labels(kind, "throttled").inc()
            if update.callback_query is not None:
                await _answer_quietly(update.callback_query, _(FLOOD_TOAST))
            if verdict is Verdict.WARN:
                log.warning("flood control: user %s sent more than %s updates in %.0f s; ignoring for now",
                            user.id, self.gate.limit, self.gate.window)
                if chat is not None:
                    await _send_quietly(context, chat.id, _(FLOOD_WARNING))
            raise ApplicationHandlerStop
        UPDATES.labels(kind, "accepted").inc()
        if chat is not None:
            # In the background: a database hiccup here must not delay or fail the user's answer.
            context.application.create_task(_mark_active_quietly(chat.id), name=f"mark_active:{chat.id}")


async def _answer_quietly(query: CallbackQuery, text: str) -> None:
    try:
        await query.answer(text=text)
    except TelegramError as exc:
        log.info("could not answer a throttled button press: %s", exc)


async def _send_quietly(context: FlyOContext, chat_id: int, text: str) -> None:
    try:
        await context.bot.send_message(chat_id, text)
    except TelegramError as exc:
        log.info("could not send the flood notice to %s: %s", chat_id, exc)


async def _mark_active_quietly(chat_id: int) -> None:
    try:
        await chat_status.note_activity(chat_id)
    except PyMongoError as exc:
        log.debug("could not clear the blocked flag of chat %s: %s", chat_id, exc)


async def _on_my_chat_member(update: Update) -> None:
    member = update.my_chat_member
    assert member is not None
    if member.chat.type != ChatType.PRIVATE:
        return
    status = member.new_chat_member.status
    try:
        if status == ChatMember.BANNED:  # "kicked": the user blocked the bot
            await chat_status.mark_blocked(member.chat.id)
        elif status == ChatMember.MEMBER:  # the user pressed "Restart bot"
            await chat_status.mark_active(member.chat.id)
    except PyMongoError:
        log.warning("could not record the chat status of %s", member.chat.id, exc_info=True)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    settings = app.bot_data.services.settings
    gate = app.bot_data.services.flood_gate or FloodGate(settings.FLOOD_MAX_UPDATES, settings.FLOOD_WINDOW_SECONDS)
    app.add_handler(TypeHandler(Update, UpdateGuard(gate)), group=-1)
