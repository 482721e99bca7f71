"""Booking management by reference: /cancel REF [reason] (own booking before departure, any for an admin)."""

from __future__ import annotations

import re

from telegram import Update

from core.errors import FlyOError
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
    reason = " ".join(args[1:])[:300] or "cancelled on request"

    async def body(turn: Turn) -> None:
        svc = turn.svc
        if not REFERENCE.fullmatch(reference):
            turn.say("A booking reference has 6 letters and digits, like <code>K7Q2MX</code> (/mybookings lists "
                     "yours).")
            return
        # "Not yours" and "doesn't exist" read the same, so references can't be probed.
        not_found = f"There is no booking {reference} among yours (/mybookings lists them)."
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
        if not turn.is_admin and booking.flight.departs_at <= svc.clock.now():
            turn.say(f"Booking {booking.reference} has already departed and can't be cancelled here.")
            return
        if booking.status == BookingStatus.CANCELLED:
            turn.say(f"Booking <b>{booking.reference}</b> is already cancelled.")
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
            turn.say(f"Can't cancel: {esc(exc)}")
            return
        text = f"Booking <b>{cancelled.reference}</b> is cancelled and its seats are released."
        if refunded:
            text += f" Refunded {money(refunded, cancelled.price.currency)}."
        if error:
            text += f" ⚠️ The refund failed ({esc(error)}); the admins have been told."
        if not own or turn.is_admin:
            text += f"\nTraveller {cancelled.user_id} is told by chat and e-mail."
        if turn.is_admin:
            await audit(svc.clock, turn.user_id, "cancel", reference, "refund_failed" if error else "cancelled",
                        f"{reason}; refunded {refunded}")
        turn.say(text)
    await run_turn(update, context, body)
