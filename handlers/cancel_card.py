"""The cancellation card of /cancel REF: what is cancelled, the refund and when it arrives, "Yes, cancel" / "Keep it".

Its buttons are flow-independent ("*:cx:<request id>", "*:keep:<request id>", handlers.flow ANYWHERE): the card
stays answerable whatever the chat does meanwhile, and services.cancellations makes sure it acts once.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.errors import FlyOError
from core.i18n import _, ngettext
from handlers.render import esc, money
from handlers.turn import Turn, callback_data
from models.booking import Booking, BookingStatus
from services import itinerary_texts
from services.cancellations import Cancellations, CardAnswered, RefundChanged
from services.payment_texts import is_demo_payment
from services.trust_texts import REFUND_DAYS


def _cancellations(turn: Turn) -> Cancellations:
    found = turn.svc.cancellations
    if found is None:
        raise RuntimeError("the composition root did not build the cancellations service")
    return found


async def show_card(turn: Turn, booking: Booking, *, internal_reason: str = "", message: str = "") -> None:
    preview = await _cancellations(turn).request(booking, turn.user_id, by_admin=turn.is_admin,
                                                 internal_reason=internal_reason, message=message)
    names = ", ".join(esc(p.full_name) for p in booking.passengers)
    lines = ["⚠️ " + _("<b>Cancel booking {reference}?</b>").format(reference=booking.reference),
             *itinerary_texts.itinerary_lines(booking, turn.svc.airports),
             ngettext("Passenger: {names}", "Passengers: {names}", len(booking.passengers)).format(names=names), ""]
    quote, currency = preview.quote, booking.price.currency
    if preview.refund:
        lines.append(_("You get back <b>{amount}</b> on the card you paid with. {refund_days}").format(
            amount=money(preview.refund, currency), refund_days=_(REFUND_DAYS)))
        if quote.fee:
            lines.append(_("That is {paid} paid minus a {fee} cancellation fee.").format(
                paid=money(quote.paid, currency), fee=money(quote.fee, currency)))
        lines.append("ℹ️ " + esc(quote.explanation))
        if is_demo_payment(booking):
            lines.append(_("(A demo payment: no money moves.)"))
    elif quote.paid:
        lines.append(_("<b>No refund</b>: {why}. Cancelling still releases the seats.").format(
            why=esc(quote.explanation)))
    elif booking.status == BookingStatus.PENDING:
        lines.append(_("Nothing was paid: the seats are released and the payment link stops working."))
    if message:
        lines.append(_("The traveller will also read: “{message}”").format(message=esc(message)))
    lines.append(_("This can't be undone."))
    request_id = str(preview.request.id)
    turn.say("\n".join(lines), InlineKeyboardMarkup([
        [InlineKeyboardButton(_("❌ Yes, cancel"), callback_data=callback_data("*", "cx", request_id))],
        [InlineKeyboardButton(_("Keep it"), callback_data=callback_data("*", "keep", request_id))]]))


async def on_yes(turn: Turn, arg: str) -> None:
    try:
        request, outcome = await _cancellations(turn).confirm(arg, turn.user_id)
    except CardAnswered as exc:
        turn.notice = str(exc)
        return
    except RefundChanged as exc:  # the 24 h line passed since the card: nothing changed, a card with the new refund
        turn.notice = str(exc)
        turn.say(_("⚠️ The refund changed since that card: {old} is no longer due.").format(
            old=money(exc.shown, exc.booking.price.currency)), edit=True)
        await show_card(turn, exc.booking)
        return
    except FlyOError as exc:
        turn.say(_("Can't cancel: {reason}").format(reason=esc(exc)), edit=True)
        return
    cancelled = outcome.booking
    text = "❌ " + _("Booking <b>{reference}</b> is cancelled and its seats are released.").format(
        reference=cancelled.reference)
    if outcome.refunded:
        text += " " + _("{amount} is on its way back to your card. {refund_days}").format(
            amount=money(outcome.refunded, cancelled.price.currency), refund_days=_(REFUND_DAYS))
    elif not request.refund_shown and cancelled.payment.payment_intent_id:
        text += " " + _("No refund, as the card said.")
    if outcome.refund_error:
        text += " " + _("⚠️ The refund failed ({error}); the admins have been told.").format(
            error=esc(outcome.refund_error))
    if cancelled.chat_id != turn.user_id:  # an admin cancelled someone's booking (admin texts stay English)
        text += f"\nTraveller {cancelled.user_id} is told by chat and e-mail"
        text += f" (with your message: “{html.escape(request.message_to_traveller)}”)." \
            if request.message_to_traveller else "."
    else:
        text += " " + _("Send /search to book another flight.")
    turn.say(text, edit=True)


async def on_keep(turn: Turn, arg: str) -> None:
    try:
        booking = await _cancellations(turn).keep(arg, turn.user_id)
    except CardAnswered as exc:
        turn.notice = str(exc)
        return
    reference = booking.reference if booking else "—"
    turn.say("✅ " + _("Nothing changed: booking <b>{reference}</b> is kept.").format(reference=reference),
             edit=True)
