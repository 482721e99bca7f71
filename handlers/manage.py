"""Booking management by reference: /cancel REF (own booking before departure; an admin: any booking, with
`/cancel REF internal reason -- message to the traveller`). It shows the cancellation card (handlers.cancel_card):
nothing is cancelled until "Yes, cancel" is tapped."""

from __future__ import annotations

import re

from telegram import Update

from core.errors import FlyOError
from core.i18n import _
from handlers.cancel_card import show_card
from handlers.context import FlyOContext
from handlers.render import esc
from handlers.router import run_turn
from handlers.turn import Turn
from models.booking import BookingStatus
from services.audit import audit

REFERENCE = re.compile(r"[A-Z0-9]{6}")


async def cancel_booking_command(update: Update, context: FlyOContext, args: list[str]) -> None:
    """Cancels booking REF when the rules allow it (refund if paid); says why not otherwise."""
    reference = args[0].upper()[:40]
    # An admin's words: the reason for the audit log, and after " -- " an optional message to the traveller.
    reason, _sep, message = " ".join(args[1:]).partition("--")

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
        if turn.is_admin:
            await show_card(turn, booking, internal_reason=reason.strip()[:300], message=message.strip()[:500])
        else:  # a traveller's words are not asked for: the reason they read is the standard one
            await show_card(turn, booking)
    await run_turn(update, context, body)
