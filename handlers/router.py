"""One entry point per update kind: load the chat's state from MongoDB, dispatch on its step, save, reply.

Why not ConversationHandler: its state lives in process memory. Here every update reads the chat's
document, so restarts and replicas continue any chat where it was (see services.conversations).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable

from pymongo.errors import PyMongoError
from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import FlyOContext
from handlers import passengers, payment, review, search, seats
from handlers.turn import Turn, parse_callback
from services.conversations import StaleConversation
from services.metrics import timed_turn

log = logging.getLogger(__name__)

UNAVAILABLE = "⏳ FlyO is temporarily unavailable. Please try again in a moment — nothing you entered is lost."

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
    """Load state, run `body`, save with a revision check (retry once on a concurrent save), reply."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    svc = context.bot_data.services
    query = update.callback_query
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
                    await _answer(query, UNAVAILABLE[:190], alert=True)
                else:
                    await context.bot.send_message(chat.id, UNAVAILABLE)
                return
    if query is not None:
        await _answer(query, turn.notice, alert=turn.alert)
    await deliver(context, chat.id, turn, query.message if query else None)


async def _answer(query: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
    try:
        await query.answer(text=text[:200] if text else None, show_alert=alert)
    except BadRequest as exc:  # too old: the traveller still gets the new message
        log.info("callback answer failed: %s", exc)


async def deliver(context: FlyOContext, chat_id: int, turn: Turn, pressed: object) -> None:
    for out in turn.replies:
        if out.edit and isinstance(pressed, Message) and (out.markup is None or isinstance(out.markup,
                                                                                        InlineKeyboardMarkup)):
            try:
                await pressed.edit_text(out.text, parse_mode=ParseMode.HTML, reply_markup=out.markup)
                continue
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    continue
                log.info("edit failed (%s); sending a new message", exc)
        await context.bot.send_message(chat_id, out.text, parse_mode=ParseMode.HTML, reply_markup=out.markup)


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
