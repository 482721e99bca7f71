"""Booking management by reference: /cancel REF [reason] (own booking before departure, any for an admin)."""

from __future__ import annotations

import re

from telegram import Update

from core.errors import FlyOError
from core.i18n import _
from handlers.context import FlyOContext
from handlers.render import esc, money
from handlers.router import run_turn
from handlers.turn import Turn
from models.booking import BookingStatus
from services.audit import audit

REFERENCE = re.compile(r"[A-Z0-9]{6}")


async def cancel_booking_command(update: Update, context: FlyOContext, args: list[str]) -> None:
    """Cancels booking REF when the rules allow it (refund if paid); says why not otherwise."""
    reference = args[0].upper()[:40]
    reason = " ".join(args[1:])[:300] or "cancelled on request"  # recorded for the audit and the admins

    async def body(turn: Turn) -> None:
        svc = turn.svc
        if not REFERENCE.fullmatch(reference):
            turn.say(_("A booking reference has 6 letters and digits, like <code>K7Q2MX</code> (/mybookings lists "
                       "yours)."))
            return
        # "Not yours" and "doesn't exist" read the same, so references can't be probed.
        not_found = _("There is no booking {reference} among yours (/mybookings lists them).").format(
            reference=reference)
        try:
            booking = await svc.bookings.by_reference(reference)
        except FlyOError as exc:
            if turn.is_admin:
                await audit(svc.clock, turn.user_id, "cancel", reference, "not_found")
                turn.say(f"Can't cancel: {esc(exc)}")
            else:
                turn.say(not_found)
            return
        own = booking.user_id == turn.user_id
        if not own and not turn.is_admin:
            turn.say(not_found)
            return
        if not turn.is_admin and booking.first_flight.departs_at <= svc.clock.now():
            turn.say(_("Booking {reference} has already departed and can't be cancelled here.").format(
                reference=booking.reference))
            return
        if booking.status == BookingStatus.CANCELLED:
            turn.say(_("Booking <b>{reference}</b> is already cancelled.").format(reference=booking.reference))
            if turn.is_admin:
                await audit(svc.clock, turn.user_id, "cancel", reference, "refused", "already cancelled")
            return
        actor = f"admin:{turn.user_id}" if turn.is_admin and not own else f"user:{turn.user_id}"
        try:
            if svc.payments is not None:
                outcome = await svc.payments.cancel(booking, reason, actor)
                cancelled, refunded, error = outcome.booking, outcome.refunded, outcome.refund_error
            else:
                cancelled, refunded, error = await svc.bookings.cancel(booking, reason, actor), 0, None
        except FlyOError as exc:
            if turn.is_admin:
                await audit(svc.clock, turn.user_id, "cancel", reference, "failed", str(exc))
            turn.say(_("Can't cancel: {reason}").format(reason=esc(exc)))
            return
        text = _("Booking <b>{reference}</b> is cancelled and its seats are released.").format(
            reference=cancelled.reference)
        if refunded:
            text += " " + _("Refunded {amount}.").format(amount=money(refunded, cancelled.price.currency))
        if error:
            text += " " + _("⚠️ The refund failed ({error}); the admins have been told.").format(error=esc(error))
        if not own or turn.is_admin:
            text += f"\nTraveller {cancelled.user_id} is told by chat and e-mail."
        if turn.is_admin:
            await audit(svc.clock, turn.user_id, "cancel", reference, "refund_failed" if error else "cancelled",
                        f"{reason}; refunded {refunded}")
        turn.say(text)
    await run_turn(update, context, body)
