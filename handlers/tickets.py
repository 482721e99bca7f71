"""/ticket [REF]: the traveller's e-ticket (PDF) and calendar file, sent again to their chat.

Without a reference it takes the traveller's only confirmed booking that has not yet flown; with several it says
which references there are. Someone else's booking reads exactly like one that does not exist, so references
cannot be probed. The files go through the outbox (services.tickets.service.TicketService.send_to_chat): drawn
off the event loop, retried when Telegram fails, at most once a minute per booking however often it is asked.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update

from core.clock import as_utc
from core.i18n import _
from handlers.context import FlyOContext
from handlers.manage import REFERENCE
from handlers.router import run_side_turn
from handlers.turn import Turn
from models.booking import Booking, BookingStatus
from services.tickets.service import NoTicket

MAX_LISTED = 5


async def ticket_command(update: Update, context: FlyOContext) -> None:
    args = list(context.args or [])

    async def body(turn: Turn) -> bool:
        svc = turn.svc
        if svc.tickets is None:
            turn.say(_("E-tickets are not available on this FlyO."))
            return True
        reference = args[0].strip().upper()[:40] if args else ""
        if reference and not REFERENCE.fullmatch(reference):
            turn.say(_("A booking reference has 6 letters and digits, like <code>K7Q2MX</code> (/mybookings lists "
                       "yours)."))
            return True
        booking = (await svc.bookings.own_by_reference(reference, turn.user_id) if reference
                   else await _only_upcoming(turn))
        if booking is None:
            if reference:
                turn.say(_("There is no booking {reference} among yours (/mybookings lists them).").format(
                    reference=reference))
            return True
        turn.say(await send_ticket(turn, booking))
        return True

    await run_side_turn(update, context, body, what="/ticket")


async def send_ticket(turn: Turn, booking: Booking, *, markup: bool = True) -> str:
    """Queue the booking's e-ticket files for this chat; what to tell the traveller (HTML unless not `markup`)."""
    tickets = turn.svc.tickets
    if tickets is None:
        return _("E-tickets are not available on this FlyO.")
    try:
        queued = await tickets.send_to_chat(booking, turn.chat_id)
    except NoTicket as exc:
        return str(exc)
    reference = f"<b>{booking.reference}</b>" if markup else booking.reference
    if queued:
        return _("🎫 Sending the e-ticket of booking {reference} (PDF and calendar file)…").format(reference=reference)
    return _("🎫 The e-ticket of booking {reference} is already on its way.").format(reference=reference)


async def _only_upcoming(turn: Turn) -> Booking | None:
    """The traveller's one confirmed booking still to fly; None (having said what to send) otherwise."""
    svc = turn.svc
    now = svc.clock.now()
    upcoming = [b for b in await svc.bookings.repo.for_user(turn.user_id, 50)
                if b.status == BookingStatus.CONFIRMED and _last_departure(b) > now]
    if len(upcoming) == 1:
        return upcoming[0]
    if not upcoming:
        turn.say(_("You have no paid booking still to fly. Send /ticket REF for an older one (/mybookings lists "
                   "your references)."))
    else:
        listed = ", ".join(f"<code>{b.reference}</code>" for b in upcoming[:MAX_LISTED])
        turn.say(_("Which booking? Send /ticket REF — yours: {references}.").format(references=listed))
    return None


def _last_departure(booking: Booking) -> datetime:
    return max(as_utc(segment.flight.departs_at) for segment in booking.segments)
