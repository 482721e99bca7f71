"""A disrupted flight's choice, from the buttons of its alert (services.flight_status, bot/notify.py):
"*:rbk:<booking>.<flight>" moves the booking onto that flight, "*:rbr:<booking>" cancels it with everything refunded.
Only the booking's owner; each acts once (services.rebooking); the answer replaces nothing, it is a new message, as
the alert stays the record of what happened."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.errors import FlyOError
from core.i18n import _
from handlers.render import esc, money
from handlers.turn import Turn, callback_data
from models.booking import Booking
from services.flight_status_texts import moved_text

NOT_YOURS = "There is no such booking among yours (/mybookings lists them)."


async def on_rebook(turn: Turn, arg: str) -> None:
    rebooking = turn.svc.rebooking
    booking_id, _dot, flight_id = arg.partition(".")
    booking = await turn.svc.bookings.own(booking_id, turn.user_id) if booking_id and flight_id else None
    if booking is None or rebooking is None:
        turn.notice, turn.alert = _(NOT_YOURS), True
        return
    try:
        moved = await rebooking.rebook(booking, flight_id)
    except FlyOError as exc:
        await _still_open(turn, booking, f"⚠️ {esc(exc)}")
        return
    new = next(s for s in moved.segments if s.flight.flight_id == flight_id)
    said = moved_text(moved, new, turn.svc.reference)
    back = booking.payment.amount_paid - moved.payment.amount_paid
    if back > 0:
        said += " " + _("The new flight is cheaper: {amount} goes back to your card.").format(
            amount=money(back, booking.price.currency))
    turn.say(said)
    await rebooking.tell_moved(moved, new)


async def on_refund(turn: Turn, arg: str) -> None:
    rebooking = turn.svc.rebooking
    booking = await turn.svc.bookings.own(arg, turn.user_id)
    if booking is None or rebooking is None:
        turn.notice, turn.alert = _(NOT_YOURS), True
        return
    try:
        outcome = await rebooking.refund(booking, f"user:{turn.user_id}")
    except FlyOError as exc:
        turn.say(f"⚠️ {esc(exc)}")
        return
    text = "❌ " + _("Booking <b>{reference}</b> is cancelled and its seats are released.").format(
        reference=booking.reference)
    if outcome.refunded:
        text += " " + _("{amount} is on its way back to your card.").format(
            amount=money(outcome.refunded, booking.price.currency))
    if outcome.refund_error:
        text += " " + _("⚠️ The refund failed ({error}); the admins have been told.").format(
            error=esc(outcome.refund_error))
    turn.say(text)


async def _still_open(turn: Turn, booking: Booking, said: str) -> None:
    """A move that could not be made: what is still open (the next flights with seats, and the refund), as
    buttons again, while the flight is still disrupted and the booking on it."""
    rebooking = turn.svc.rebooking
    fresh = await turn.svc.bookings.repo.get(booking.id)
    options = await rebooking.choices_for(fresh) if rebooking is not None and fresh is not None else None
    if rebooking is None or options is None:
        turn.say(said)
        return
    rows = [[InlineKeyboardButton(rebooking.label(o.flight)[:60], callback_data=callback_data(
        "*", "rbk", f"{booking.id}.{o.flight.id}"))] for o in options]
    refund = callback_data("*", "rbr", str(booking.id))
    rows.append([InlineKeyboardButton(_("💷 Refund in full"), callback_data=refund)])
    more = _("Still open:") if options else _("No other flight has free seats in your cabin now:")
    turn.say(f"{said}\n{more}", InlineKeyboardMarkup(rows))
