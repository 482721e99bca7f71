"""Booking management by reference: /cancel REF (own booking, or any for an admin)."""

from __future__ import annotations

from telegram import Update

from bot.context import FlyOContext
from handlers.router import run_turn
from handlers.turn import Turn


async def cancel_booking_command(update: Update, context: FlyOContext, args: list[str]) -> None:
    """Cancels booking REF when the rules allow it; says why not otherwise."""
    reference = args[0].upper()
    reason = " ".join(args[1:]) or "cancelled on request"

    async def body(turn: Turn) -> None:
        from handlers.render import esc
        from services.errors import FlyOError

        try:
            booking = await turn.svc.bookings.by_reference(reference)
            if booking.user_id != turn.user_id and not turn.is_admin:
                turn.say(f"There is no booking {esc(reference)} in your bookings (/mybookings lists them).")
                return
            cancelled = await turn.svc.bookings.cancel(booking, reason, actor=f"user:{turn.user_id}")
        except FlyOError as exc:
            turn.say(f"Can't cancel: {esc(exc)}")
            return
        turn.say(f"Booking <b>{cancelled.reference}</b> is cancelled and its seats are released.")
    await run_turn(update, context, body)
