"""/profile: the travellers FlyO saved for this user (services.travellers) and their contact — see, edit, delete.

Buttons carry the flow-independent prefix "*" and their own actions (registered in bot/app.py before the router's
catch-all, by `PATTERN`), each with the saved traveller's id, checked against the pressing user on every press:
"*:pfe:<id>" Edit, "*:pfk:<id>.<field>" Keep (an edit's question), "*:pfr:<id>" remove the document, "*:pfc:<id>"
stop editing, "*:pfd:<id>" Delete → "*:pfy:<id>" Yes / "*:pfn:<id>" No, "*:pfa:" Delete everything → "*:pfz:" Yes /
"*:pfw:" No. An edit's typed answers come through `on_text`, registered in a handler group before the router's:
it takes the text only while the user has an edit pending (stored on their `TravellerContact`, so any replica
sees it) and the chat's conversation is still at the revision it was asked at — anything else done in the chat
(a search, /help, a flow button) moves the revision on and the edit lapses; the text then goes to the router.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop

from core.formatting import long_date
from core.i18n import _, ngettext
from handlers.context import FlyOContext
from handlers.render import esc
from handlers.router import INACTIVE_BUTTON, answer_query, run_side_turn
from handlers.turn import Turn, callback_data, pressed
from models.traveller import PendingEdit, SavedTraveller
from services.passengers import BadAnswer, format_phone, parse_birth_date, parse_document_number, parse_full_name
from services.travellers import TravellerService

log = logging.getLogger(__name__)

PATTERN = r"^\*:pf[a-z]:"
FIELDS = ("name", "dob", "doc")


def _data(action: str, arg: str = "") -> str:
    return callback_data("*", action, arg)


def _masked(number: str) -> str:
    return "•" * max(len(number) - 3, 0) + number[-3:]


def _name(traveller: SavedTraveller) -> str:
    you = " " + _("(you)") if traveller.is_self else ""
    return esc(traveller.full_name) + you


def card(traveller: SavedTraveller) -> tuple[str, InlineKeyboardMarkup]:
    """One saved traveller: name, birth date in words, the document masked but its last 3 characters."""
    number = traveller.document_number
    lines = [
        f"👤 <b>{_name(traveller)}</b>",
        _("Born {day}").format(day=long_date(traveller.birth_date)),
        _("Document {number}").format(number=esc(_masked(number))) if number else _("No travel document saved"),
    ]
    tid = str(traveller.id)
    return "\n".join(lines), InlineKeyboardMarkup([[
        InlineKeyboardButton(_("✏️ Edit"), callback_data=_data("pfe", tid)),
        InlineKeyboardButton(_("🗑 Delete"), callback_data=_data("pfd", tid))]])


def _contact_text(email: str | None, phone: str | None) -> str:
    if not email and not phone:
        return _("No contact details saved.")
    parts = [esc(email)] if email else []
    if phone:
        parts.append(esc(format_phone(phone)))
    return _("Contact: {contact}").format(contact=" · ".join(parts))


def _everything_markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(_("🗑 Delete everything"), callback_data=_data("pfa"))]])


async def _show(turn: Turn, travellers: TravellerService) -> bool:
    saved = await travellers.list(turn.user_id)
    email, phone = await travellers.contact(turn.user_id)
    if not saved and not email and not phone:
        turn.say(_("You have no saved travellers yet. They are saved when you book: on your next booking FlyO "
                   "offers them as buttons, so you don't type their details again."))
        return True
    turn.say("👤 <b>" + _("Your saved travellers") + "</b>" + (
        "" if saved else "\n" + _("None yet — they are saved when you book.")))
    for traveller in saved:
        turn.say(*card(traveller))
    turn.say(_contact_text(email, phone), _everything_markup())
    return True


async def profile_command(update: Update, context: FlyOContext) -> None:
    """/profile: the saved travellers, one card each, then the contact."""
    await _run(update, context, _show)


# ---- editing: name, then birth date, then document, each with Keep ----------------------------------------
def _question(turn: Turn, traveller: SavedTraveller, field: str) -> None:
    tid = str(traveller.id)
    keep = {"name": traveller.full_name, "dob": long_date(traveller.birth_date),
            "doc": _masked(traveller.document_number or "")}[field]
    text = {"name": _("Type the full name as in the passport, e.g. Ada Lovelace."),
            "dob": _("Type the date of birth, e.g. 1990-04-23."),
            "doc": _("Type the travel document number (passport or ID card).")}[field]
    row = [InlineKeyboardButton(_("✅ Keep {value}").format(value=keep) if field != "doc" or traveller.document_number
                                else _("✅ Keep: none"), callback_data=_data("pfk", f"{tid}.{field}"))]
    if field == "doc" and traveller.document_number:
        row.append(InlineKeyboardButton(_("Remove it"), callback_data=_data("pfr", tid)))
    turn.say(_("✏️ Editing {name}.").format(name=esc(traveller.full_name)) + "\n" + text, InlineKeyboardMarkup([
        row, [InlineKeyboardButton(_("Stop editing"), callback_data=_data("pfc", tid))]]))


async def _answer(turn: Turn, travellers: TravellerService, pending: PendingEdit, value: str | None, *,
                  keep: bool = False) -> None:
    """One answer of the edit (`keep`: the saved value stands; `value` None without keep: no document)."""
    traveller = await travellers.get(turn.user_id, pending.traveller_id)
    if traveller is None:  # deleted meanwhile
        await travellers.set_pending(turn.user_id, None)
        turn.say(_("That traveller is no longer saved. Send /profile to see who is."))
        return
    try:
        if pending.field == "name":
            pending.full_name = traveller.full_name if keep or value is None else parse_full_name(value)
            pending.field = "dob"
        elif pending.field == "dob":
            born = traveller.birth_date if keep or value is None else parse_birth_date(value, turn.today())
            pending.birth_date = born.isoformat()
            pending.field = "doc"
        else:
            document = traveller.document_number if keep else (
                parse_document_number(value) if value is not None else None)
            await _finish(turn, travellers, pending, traveller, document)
            return
    except BadAnswer as exc:  # as the booking flow shows it; the question stands
        turn.say(f"⚠️ {esc(exc)}")
        _question(turn, traveller, pending.field)
        return
    await travellers.set_pending(turn.user_id, pending)
    _question(turn, traveller, pending.field)


async def _finish(turn: Turn, travellers: TravellerService, pending: PendingEdit, traveller: SavedTraveller,
                  document: str | None) -> None:
    await travellers.set_pending(turn.user_id, None)
    name = pending.full_name or traveller.full_name
    born = date.fromisoformat(pending.birth_date) if pending.birth_date else traveller.birth_date
    edited = await travellers.update(turn.user_id, pending.traveller_id, name, born, document)
    if edited is None:
        turn.say(_("That traveller is no longer saved. Send /profile to see who is."))
        return
    text, markup = card(edited)
    turn.say("✅ " + _("Saved.") + "\n\n" + text, markup)


async def on_text(update: Update, context: FlyOContext) -> None:
    """Typed text while a /profile edit is pending: its answer (then no other handler runs); else nothing."""
    user = update.effective_user
    travellers = context.bot_data.services.travellers
    if user is None or travellers is None or not update.effective_message or not update.effective_message.text:
        return
    if await travellers.pending(user.id) is None:  # the usual case: one indexed read, then the router
        return
    text = update.effective_message.text

    async def body(turn: Turn, travellers: TravellerService) -> bool:
        pending = await travellers.pending(turn.user_id)
        if pending is None:
            return False
        if pending.rev != turn.conv.rev:  # something else happened in this chat since: the edit lapsed
            await travellers.set_pending(turn.user_id, None)
            return False
        await _answer(turn, travellers, pending, text)
        return True

    if await _run(update, context, body):
        raise ApplicationHandlerStop


# ---- the buttons ------------------------------------------------------------------------------------------
async def on_callback(update: Update, context: FlyOContext) -> None:
    """Every "*:pf?:…" button; always answered."""
    press = pressed(update)
    if press is None:
        return
    action, arg = press
    handler = BUTTONS.get(action)

    async def body(turn: Turn, travellers: TravellerService) -> bool:
        if handler is None or len(arg) > 40 or not await handler(turn, travellers, arg):
            turn.replies.clear()
            turn.notice = _(INACTIVE_BUTTON)
        return True

    await _run(update, context, body)


async def _on_edit(turn: Turn, travellers: TravellerService, arg: str) -> bool:
    traveller = await travellers.get(turn.user_id, arg)
    if traveller is None:
        return False
    await travellers.set_pending(turn.user_id, PendingEdit(traveller_id=arg, field="name", rev=turn.conv.rev))
    _question(turn, traveller, "name")
    return True


async def _pending_for(turn: Turn, travellers: TravellerService, tid: str, field: str | None) -> PendingEdit | None:
    pending = await travellers.pending(turn.user_id)
    if pending is None or pending.traveller_id != tid or pending.rev != turn.conv.rev:
        return None
    return pending if field is None or pending.field == field else None


async def _on_keep(turn: Turn, travellers: TravellerService, arg: str) -> bool:
    tid, _sep, field = arg.partition(".")
    pending = await _pending_for(turn, travellers, tid, field)
    if pending is None:
        return False
    await _answer(turn, travellers, pending, None, keep=True)
    return True


async def _on_remove_document(turn: Turn, travellers: TravellerService, arg: str) -> bool:
    pending = await _pending_for(turn, travellers, arg, "doc")
    if pending is None:
        return False
    await _answer(turn, travellers, pending, None)
    return True


async def _on_stop(turn: Turn, travellers: TravellerService, arg: str) -> bool:
    if await _pending_for(turn, travellers, arg, None) is None:
        return False
    await travellers.set_pending(turn.user_id, None)
    turn.say(_("Stopped editing — nothing changed."))
    return True


async def _on_delete(turn: Turn, travellers: TravellerService, arg: str) -> bool:
    traveller = await travellers.get(turn.user_id, arg)
    if traveller is None:
        return False
    turn.say(_("Delete {name}? FlyO forgets their details, also in a booking you are putting together.").format(
        name=esc(traveller.full_name)), InlineKeyboardMarkup([[
            InlineKeyboardButton(_("Yes, delete"), callback_data=_data("pfy", arg)),
            InlineKeyboardButton(_("No"), callback_data=_data("pfn", arg))]]), edit=True)
    return True


async def _on_delete_yes(turn: Turn, travellers: TravellerService, arg: str) -> bool:
    traveller = await travellers.get(turn.user_id, arg)
    if traveller is None or not await travellers.forget(turn.user_id, arg):
        return False
    if await _pending_for(turn, travellers, arg, None) is not None:
        await travellers.set_pending(turn.user_id, None)
    turn.say("🗑 " + _("Deleted {name}: FlyO no longer remembers them.").format(name=esc(traveller.full_name)),
             edit=True)
    return True


async def _on_delete_no(turn: Turn, travellers: TravellerService, arg: str) -> bool:
    traveller = await travellers.get(turn.user_id, arg)
    if traveller is None:
        return False
    turn.say(*card(traveller), edit=True)
    return True


async def _on_everything(turn: Turn, travellers: TravellerService, _arg: str) -> bool:
    count = len(await travellers.list(turn.user_id))
    turn.say(ngettext("Delete your {count} saved traveller and your contact details?",
                      "Delete all {count} saved travellers and your contact details?", count).format(count=count),
             InlineKeyboardMarkup([[InlineKeyboardButton(_("Yes, delete everything"), callback_data=_data("pfz")),
                                    InlineKeyboardButton(_("No"), callback_data=_data("pfw"))]]), edit=True)
    return True


async def _on_everything_yes(turn: Turn, travellers: TravellerService, _arg: str) -> bool:
    if not await travellers.list(turn.user_id) and await travellers.contact(turn.user_id) == (None, None):
        turn.notice = _("Nothing left to delete.")
        return True
    count = await travellers.forget_all(turn.user_id)
    turn.say("🗑 " + ngettext("Deleted {count} saved traveller and your contact details.",
                             "Deleted {count} saved travellers and your contact details.", count).format(count=count),
             edit=True)
    return True


async def _on_everything_no(turn: Turn, travellers: TravellerService, _arg: str) -> bool:
    email, phone = await travellers.contact(turn.user_id)
    turn.say(_contact_text(email, phone), _everything_markup(), edit=True)
    return True


BUTTONS: dict[str, Callable[[Turn, TravellerService, str], Awaitable[bool]]] = {
    "pfe": _on_edit, "pfk": _on_keep, "pfr": _on_remove_document, "pfc": _on_stop,
    "pfd": _on_delete, "pfy": _on_delete_yes, "pfn": _on_delete_no,
    "pfa": _on_everything, "pfz": _on_everything_yes, "pfw": _on_everything_no,
}


# ---- plumbing ---------------------------------------------------------------------------------------------
async def _run(update: Update, context: FlyOContext,
               body: Callable[[Turn, TravellerService], Awaitable[bool]]) -> bool:
    """`body` as a side turn (handlers.router.run_side_turn). The conversation is read (its revision dates an
    edit) but never saved: /profile is not a turn of the booking flow, so a pending edit outlives its own presses
    and answers, and nothing else."""
    travellers = context.bot_data.services.travellers
    if travellers is None:
        if update.callback_query is not None:
            await answer_query(update.callback_query, None)
        return False
    return await run_side_turn(update, context, lambda turn: body(turn, travellers), what="/profile")
