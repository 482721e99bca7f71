"""/deleteme: a traveller erases what FlyO keeps about them (services.erasure). A card says what goes and what
stays; its "Yes" acts once however often it is tapped (an `erase_requests` document claimed by one conditional
update), its "No" closes it.

Buttons: "*:dmy:<request id>" Yes, "*:dmn:<request id>" No — flow-independent, registered beside the router's
catch-all, checked against the pressing user.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from core.i18n import _, ngettext
from handlers.context import FlyOContext
from handlers.router import run_side_turn
from handlers.turn import Turn, callback_data, pressed
from services.cancellations import CardAnswered
from services.erasure import Erasure, ErasureReport

PATTERN = r"^\*:dm[yn]:"


def _erasure(turn: Turn) -> Erasure:
    found = turn.svc.erasure
    if found is None:
        raise RuntimeError("the composition root did not build the erasure service")
    return found


def _refs(references: list[str]) -> str:
    return ", ".join(f"<b>{r}</b>" for r in references)


def _kept_line(kept: list[str]) -> str:
    return ngettext(
        "Booking {refs} is paid and still to fly: it stays as it is so you can travel, and its personal details are "
        "removed automatically as soon as the trip is over.",
        "Bookings {refs} are paid and still to fly: they stay as they are so you can travel, and their personal "
        "details are removed automatically as soon as each trip is over.", len(kept)).format(refs=_refs(kept))


def card_text(preview: ErasureReport) -> str:
    lines = ["⚠️ <b>" + _("Delete your data from FlyO?") + "</b>",
             ngettext("This erases your saved traveller ({count}), your contact details and your conversation "
                      "with FlyO, including a booking in progress and the seats it holds.",
                      "This erases your saved travellers ({count}), your contact details and your conversation "
                      "with FlyO, including a booking in progress and the seats it holds.",
                      preview.travellers).format(count=preview.travellers)]
    if preview.cancelled:
        lines.append(ngettext("Your unpaid booking {refs} is cancelled and its seats released.",
                              "Your unpaid bookings {refs} are cancelled and their seats released.",
                              len(preview.cancelled)).format(refs=_refs(preview.cancelled)))
    lines.append(_("Bookings themselves are kept for accounting (reference, amounts, flights, dates, payment), "
                   "without the passengers' names, birth dates, document numbers, e-mail and phone."))
    if preview.redacted:
        lines.append(ngettext("That happens at once for your past or cancelled booking {refs}.",
                              "That happens at once for your past or cancelled bookings {refs}.",
                              len(preview.redacted)).format(refs=_refs(preview.redacted)))
    if preview.kept:
        lines.append(_kept_line(preview.kept))
    lines.append(_("This can't be undone."))
    return "\n\n".join(lines)


def done_text(report: ErasureReport) -> str:
    lines = ["🗑 " + ngettext(
        "Done: FlyO erased your profile — {count} saved traveller, your contact details — and your conversation.",
        "Done: FlyO erased your profile — {count} saved travellers, your contact details — and your conversation.",
        report.travellers).format(count=report.travellers)]
    if report.seats_released:
        lines.append(ngettext("{count} held seat was released.", "{count} held seats were released.",
                              report.seats_released).format(count=report.seats_released))
    if report.cancelled:
        lines.append(ngettext("Your unpaid booking {refs} is cancelled and its seats released.",
                              "Your unpaid bookings {refs} are cancelled and their seats released.",
                              len(report.cancelled)).format(refs=_refs(report.cancelled)))
    gone = report.cancelled + report.redacted
    if gone:
        lines.append(ngettext(
            "Booking {refs} keeps only what accounting needs (reference, amounts, flights, dates, payment): its "
            "names, birth dates, document numbers, e-mail and phone are removed.",
            "Bookings {refs} keep only what accounting needs (reference, amounts, flights, dates, payment): their "
            "names, birth dates, document numbers, e-mail and phone are removed.", len(gone)).format(refs=_refs(gone)))
    if report.kept:
        lines.append(_kept_line(report.kept))
    return "\n\n".join(lines)


async def deleteme_command(update: Update, context: FlyOContext) -> None:
    async def body(turn: Turn) -> bool:
        erasure = _erasure(turn)
        preview = await erasure.preview(turn.user_id)
        request = await erasure.ask(turn.user_id, turn.chat_id)
        request_id = str(request.id)
        turn.say(card_text(preview), InlineKeyboardMarkup([
            [InlineKeyboardButton(_("🗑 Yes, delete my data"), callback_data=callback_data("*", "dmy", request_id))],
            [InlineKeyboardButton(_("No, keep it"), callback_data=callback_data("*", "dmn", request_id))]]))
        return True

    await run_side_turn(update, context, body, what="/deleteme")


async def on_callback(update: Update, context: FlyOContext) -> None:
    press = pressed(update)
    if press is None:
        return
    action, arg = press

    async def body(turn: Turn) -> bool:
        erasure = _erasure(turn)
        try:
            if action == "dmy":
                report = await erasure.confirm(arg, turn.user_id)
                turn.say(done_text(report), edit=True)
            else:
                await erasure.keep(arg, turn.user_id)
                turn.say("✅ " + _("Nothing was deleted: your data stays as it was."), edit=True)
        except CardAnswered as exc:
            turn.notice = str(exc)
        return True

    # Not saved: a "Yes" has just deleted the conversation, which must not be written back.
    await run_side_turn(update, context, body, what="a /deleteme button")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("deleteme", deleteme_command, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(on_callback, pattern=PATTERN))
