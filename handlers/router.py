"""One entry point per update kind: load the chat's state from MongoDB, dispatch on its step, save, reply.

Why not ConversationHandler: its state lives in process memory. Here every update reads the chat's
document, so restarts and replicas continue any chat where it was (see services.conversations).

What each step shows, takes and offers is the table in handlers.flow; this module only reads it. A handler
moves on with `turn.goto(step)`; the router then shows that step (`show_next`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import PyMongoError
from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackContext

from core.i18n import N_, _, available_locales, current_locale, set_locale
from handlers import replay
from handlers.context import FlyOContext
from handlers.delivery import deliver
from handlers.flow import ANYWHERE, FLOW, NEW_SEARCH, ON_CONTACT, ONE_LINE, hint
from handlers.turn import Turn, parse_callback
from models.conversation import Conversation, Draft, Step
from services.context import Services
from services.conversations import StaleConversation
from services.metrics import record_update_round_trips, timed_turn
from services.seats import chat_holder

log = logging.getLogger(__name__)

UNAVAILABLE = N_("⏳ FlyO is temporarily unavailable. Please try again in a moment — nothing you entered is lost.")
PRESS_FAILED = N_("😕 Something went wrong — please try again.")
STALE_BUTTON = N_("That button is from an earlier step — here is where you are now.")
EARLIER_STEP = N_("That button is from an earlier step; the current question is the newest message.")
INACTIVE_BUTTON = N_("This button is no longer active.")
LOST_TRACK = N_("Sorry — I lost track of your search after an update. Send /search to start again; nothing was "
              "booked or charged.")
FlyOApplication = Application[Any, Any, Any, Any, Any, Any]
MAX_HOPS = 8  # steps shown in one turn (a prompt may move on again, e.g. passengers complete → review)
# Tries of a turn another replica's save beat: in webhook mode a chat's updates reach several replicas at once (each
# is stored and answered 200 before it is handled, so Telegram sends the next without waiting).
STALE_TRIES = 6


async def reprompt(turn: Turn) -> None:
    """Say again what the current step needs, so an old button or stray text never leaves anyone lost."""
    turn.goto(turn.conv.step)


async def new_search(turn: Turn, args: str = "") -> None:
    """/search [query]: a new search, guided or parsed from `args`."""
    await NEW_SEARCH(turn, args)


async def show_next(turn: Turn) -> None:
    """Show the step the handler moved to (`turn.goto`), and the next one if that step moves on again."""
    for _hop in range(MAX_HOPS):
        step = turn.next
        if step is None:
            return
        turn.next = None
        turn.conv.step = step
        await FLOW[step].prompt(turn)
        turn.redraw = False
    raise RuntimeError(f"the flow did not settle after {MAX_HOPS} steps (now {turn.conv.step})")


async def on_text_step(turn: Turn, text: str) -> None:
    row = FLOW[turn.conv.step]
    if row.text is not None:
        await row.text(turn, text)
    elif len(text.split()) >= 3:
        if not await ONE_LINE(turn, text):
            turn.say(_("I didn't understand that.") + " " + hint(turn.conv.step))
    else:
        turn.say(hint(turn.conv.step))
        if row.prompt_after_hint:
            await reprompt(turn)


async def on_press(turn: Turn, data: str) -> None:
    """A button's `flow:action:arg`: run it if it belongs to this flow and step, else say where we are."""
    parsed = parse_callback(data)
    if parsed is None:
        turn.notice = _(INACTIVE_BUTTON)
        await reprompt(turn)
        return
    flow, action, arg = parsed
    if action == "nop":
        return
    if flow == "*" and action in ANYWHERE:  # flow-independent buttons (payment notifications)
        await ANYWHERE[action](turn, arg)
        return
    handler = FLOW[turn.conv.step].buttons.get(action)
    if handler is None or flow != turn.conv.flow:
        if flow != turn.conv.flow:  # an older search's button: say where this one stands
            turn.notice = _(STALE_BUTTON)
            await reprompt(turn)
            return
        turn.notice = _(EARLIER_STEP)
        # This search's earlier step (a day tapped twice, a double tap): its question is already the newest
        # message, so a toast is enough — 25 taps must not post 25 copies of it.
        return
    await handler(turn, arg)


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
            await answer_query(query, None)
        return
    svc = context.bot_data.services
    answered = False
    try:
        async with chat_lock(chat.id):
            try:
                message = update.effective_message
                turn = await _play(svc, chat.id, user.id, body, update.update_id, first_name=user.first_name,
                                   query=query, text=message.text if message else None,
                                   contact=message.contact if message else None)
            except PyMongoError:
                log.warning("database unavailable while handling an update", exc_info=True)
                if query is not None:
                    answered = True
                    await answer_query(query, _(UNAVAILABLE)[:190], alert=True)
                else:
                    await context.bot.send_message(chat.id, _(UNAVAILABLE))
                return
        record_update_round_trips(update)  # counted before its replies are seen (services.metrics)
        if query is not None:
            answered = True
            await answer_query(query, turn.notice, alert=turn.alert)
        await deliver(context, chat.id, turn, query.message if query else None)
    except Exception:
        if query is not None and not answered:
            await answer_query(query, _(PRESS_FAILED))
        raise  # the error handler logs it and tells the traveller


async def _play(svc: Services, chat_id: int, user_id: int, body: Callable[[Turn], Awaitable[None]],
                update_id: int | None = None, **inputs: Any) -> Turn:
    """Load the chat's state, run `body` and the steps it moves to, save with the revision check: redone on fresh
    state when another replica saved the chat meanwhile (at most STALE_TRIES times). `inputs`: the Turn's input fields.

    In webhook mode the turn's update id and replies are saved with it, and an update taken over from a dead process
    that this chat applied already is answered with those replies, not applied twice (handlers.replay)."""
    for attempt in range(STALE_TRIES):
        try:
            conv = await svc.conversations.load(chat_id, user_id)
            speak(conv)
            draft = svc.conversations.read_draft(conv)
            turn = Turn(svc=svc, conv=conv, draft=draft or Draft(), user_id=user_id, chat_id=chat_id,
                        is_admin=user_id in svc.settings.ADMIN_IDS, **inputs)
            inbox = svc.telegram_inbox if update_id is not None else None
            if inbox is not None and update_id in inbox.recovered and replay.applied_before(turn, update_id):
                log.info("update %s of chat %s was applied before its process died: its replies again", update_id,
                         chat_id)
                replay.replay(turn, update_id)
                return turn  # saved by the process that died
            if draft is None:
                await _lost_track(turn)
            else:
                await body(turn)
                await show_next(turn)
            if inbox is not None and update_id is not None:
                replay.remember(turn, update_id)
            svc.conversations.keep_draft(turn.conv, turn.draft)
            await svc.conversations.save(turn.conv)
            return turn
        except StaleConversation:
            if attempt == STALE_TRIES - 1:
                raise
            # Not in step with the replica that won: a random pause, longer each time (found by the replicas test:
            # 30 updates of one chat at once over three replicas could lose three times in a row).
            await asyncio.sleep(random.uniform(0.005, 0.03) * (attempt + 1))
    raise AssertionError("unreachable")


def speak(conv: Conversation) -> None:
    """The rest of this update in the language the traveller chose with /language (else Telegram's, already set
    by handlers.ops)."""
    if conv.language and conv.language in available_locales():
        set_locale(conv.language)
    conv.locale = current_locale()  # saved with the turn: messages sent later without an update use it


async def run_app_turn(application: FlyOApplication, chat_id: int, user_id: int, first_name: str,
                       body: Callable[[Turn], Awaitable[None]]) -> Turn:
    """A Mini App request acting on the chat (issue #19), as a button press would: under the chat's lock, saved
    with the revision check, its replies sent to the chat as new messages (no message was pressed). Database
    errors propagate: the page answers 503 and nothing was half done that a retry would not finish."""
    svc: Services = application.bot_data.services
    async with chat_lock(chat_id):
        turn = await _play(svc, chat_id, user_id, body, first_name=first_name)
    try:
        await deliver(CallbackContext(application, chat_id=chat_id, user_id=user_id), chat_id, turn, None)
    except TelegramError:  # what was done is saved; the chat shows the step when the traveller next writes
        log.warning("could not send a Mini App turn's replies to chat %s", chat_id, exc_info=True)
    return turn


async def _lost_track(turn: Turn) -> None:
    """The stored draft no longer reads (an incompatible update): start over, politely, instead of failing."""
    await turn.svc.seats.release_holder(chat_holder(turn.chat_id))
    turn.restart(Step.IDLE)
    turn.say(_(LOST_TRACK))


async def answer_query(query: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
    try:
        await query.answer(text=text[:200] if text else None, show_alert=alert)
    except TelegramError as exc:  # too old, or Telegram unreachable: the traveller still gets the reply
        log.info("callback answer failed: %s", exc)



async def run_side_turn(update: Update, context: FlyOContext, body: Callable[[Turn], Awaitable[bool]], *,
                        what: str, save: bool = False, stale_notice: str | None = None) -> bool:
    """A command or button beside the booking flow (/mybookings cards, /profile): `body` runs under the chat's
    lock with the chat's conversation and an empty draft, a press is answered exactly once, and the replies are
    sent when `body` handled the update (returned True) or said something. The conversation is saved — its
    revision moves on — only when `save` and `body` returned True; a concurrent save elsewhere answers the press
    with `stale_notice`. True when the update was handled (a text handler stops it going on to the router)."""
    query = update.callback_query
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        if query is not None:
            await answer_query(query, None)
        return False
    svc = context.bot_data.services
    try:
        async with chat_lock(chat.id):
            conv = await svc.conversations.load(chat.id, user.id)
            speak(conv)
            turn = Turn(svc=svc, conv=conv, draft=Draft(), user_id=user.id, chat_id=chat.id,
                        first_name=user.first_name, query=query, is_admin=user.id in svc.settings.ADMIN_IDS)
            handled = await body(turn)
            if handled and save:
                await svc.conversations.save(conv)  # the draft dict is written back untouched
    except StaleConversation:  # another replica answered this chat a moment ago
        if query is not None:
            await answer_query(query, stale_notice)
        return True
    except PyMongoError:
        log.warning("database unavailable while handling %s", what, exc_info=True)
        if query is not None:
            await answer_query(query, _(UNAVAILABLE)[:190], alert=True)
        else:
            await context.bot.send_message(chat.id, _(UNAVAILABLE))
        return True
    except Exception:
        if query is not None:
            await answer_query(query, _(PRESS_FAILED))
        raise
    if query is not None:
        await answer_query(query, turn.notice, alert=turn.alert)
    if handled or turn.replies:
        await deliver(context, chat.id, turn, query.message if query else None)
    return handled


# ---- PTB callbacks -------------------------------------------------------------------------------
async def on_message(update: Update, context: FlyOContext) -> None:
    """Typed text or a shared contact: the answer to the current step."""
    async def body(turn: Turn) -> None:
        if turn.contact is not None:
            await ON_CONTACT(turn)
        elif turn.text:
            await on_text_step(turn, turn.text)
    await run_turn(update, context, body)


async def on_callback(update: Update, context: FlyOContext) -> None:
    """A tapped inline button; buttons of an earlier search or step get a short notice and the current step."""
    async def body(turn: Turn) -> None:
        assert turn.query is not None
        await on_press(turn, turn.query.data or "")
    await run_turn(update, context, body)
