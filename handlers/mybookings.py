"""/mybookings: one card per booking, newest first, with its status in words and what can be done with it.

Buttons carry the flow-independent prefix "*" and their own actions (registered in bot/app.py before the
router's catch-all, by `PATTERN`): "*:mbd:<booking id>" Details, "*:mbs:<booking id>" back to the short card,
"*:mbc:<booking id>" Cancel (the /cancel REF path of handlers.manage), "*:mbt:<booking id>" E-ticket (sent again,
as /ticket REF), "*:mbp:<to>.<from>.<rev>" a page. Pay is
the router's "*:pay:<booking id>". Nothing is kept in memory: a booking id is checked against the pressing user
on every press, and a page button carries the chat's conversation revision when it was sent, so a page is shown
once however often (or on however many replicas) its button is pressed; a later press is told so.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from core.i18n import N_, _, ngettext
from handlers.context import FlyOContext
from handlers.render import esc, money
from handlers.router import run_side_turn, run_turn
from handlers.tickets import send_ticket
from handlers.turn import Turn, callback_data, pressed
from models.booking import Booking, BookingStatus
from models.flight_status import FlightState
from services import itinerary_texts
from services.flight_status_texts import state_line

log = logging.getLogger(__name__)

PATTERN = r"^\*:mb[a-z]:"
PER_PAGE = 5
STATUS_MARK = {BookingStatus.PENDING: "⏳", BookingStatus.CONFIRMED: "✅", BookingStatus.CANCELLED: "❌"}


async def flight_states(turn: Turn, bookings: list[Booking]) -> dict[str, FlightState]:
    """The current status of the flights of these bookings (the confirmed ones: a cancelled trip needs none)."""
    if turn.svc.flight_status is None:
        return {}
    ids = [s.flight.flight_id for b in bookings if b.status == BookingStatus.CONFIRMED for s in b.segments]
    return await turn.svc.flight_status.repo.states(ids) if ids else {}


def card(turn: Turn, booking: Booking, *, details: bool = False,
         states: dict[str, FlightState] | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """A booking's card: reference, route, status in words, every flight in local times (with its latest status
    once something changed: a delay, a gate, a cancellation), total; with details, the passengers with their seats
    and the contact."""
    svc = turn.svc
    changes = [f"{esc(s.flight.flight_number)}: {esc(line)}" for s in booking.segments
               if (line := state_line((states or {}).get(s.flight.flight_id), s.flight, svc.airports))]
    lines = [
        f"🎫 <b>{booking.reference}</b> · {itinerary_texts.route(booking)}",
        f"{STATUS_MARK[booking.status]} <b>{itinerary_texts.status_words(booking, svc.clock.now_ms())}</b>",
        *itinerary_texts.itinerary_lines(booking, svc.airports),
        *changes,
        ngettext("Total {total} · {count} passenger", "Total {total} · {count} passengers",
                 len(booking.passengers)).format(total=money(booking.price.total, booking.price.currency),
                                            count=len(booking.passengers)),
    ]
    if details:
        lines += ["", "<b>" + _("Passengers") + "</b>", *itinerary_texts.passenger_lines(booking)]
        phone = booking.passengers[0].phone if booking.passengers else None
        contact = esc(booking.email) + (f" · {esc(phone)}" if phone else "")
        lines.append(_("Contact: {contact}").format(contact=contact))
    row: list[InlineKeyboardButton] = []
    booking_id = str(booking.id)
    if booking.status == BookingStatus.PENDING:
        row.append(InlineKeyboardButton(_("💳 Pay"), callback_data=callback_data("*", "pay", booking_id)))
    if booking.status == BookingStatus.CONFIRMED and svc.tickets is not None:
        row.append(InlineKeyboardButton(_("🎫 E-ticket"), callback_data=callback_data("*", "mbt", booking_id)))
    if details:
        row.append(InlineKeyboardButton(_("◀ Less"), callback_data=callback_data("*", "mbs", booking_id)))
    else:
        row.append(InlineKeyboardButton(_("Details"), callback_data=callback_data("*", "mbd", booking_id)))
    if booking.status != BookingStatus.CANCELLED and booking.first_flight.departs_at > svc.clock.now():
        row.append(InlineKeyboardButton(_("Cancel"), callback_data=callback_data("*", "mbc", booking_id)))
    return "\n".join(lines), InlineKeyboardMarkup([row])


def _range(page: int, shown: int, total: int) -> str:
    first = page * PER_PAGE + 1
    return _("Bookings {first}–{last} of {total}").format(first=first, last=first + shown - 1, total=total)


async def show_page(turn: Turn, page: int, *, came_from: int | None = None) -> None:
    """Page `page` of the traveller's bookings: a card each, then ‹ Prev / Next › when there are more than
    PER_PAGE. `came_from`: the page whose buttons were pressed (its message loses them)."""
    bookings, total = await turn.svc.bookings.page_for_user(turn.user_id, page, PER_PAGE)
    if total == 0:
        turn.say(_("You have no bookings yet. Send /search to find a flight."))
        return
    last_page = (total - 1) // PER_PAGE
    if not bookings:  # bookings went away since the button was made: the last page there is
        page = last_page
        bookings, total = await turn.svc.bookings.page_for_user(turn.user_id, page, PER_PAGE)
    if came_from is not None:
        shown = min(PER_PAGE, max(0, total - came_from * PER_PAGE))
        turn.say("🎫 " + _range(came_from, shown, total) if shown else "🎫", edit=True)
    else:
        turn.say("🎫 <b>" + _("Your bookings") + "</b> — " + _("newest first"))
    states = await flight_states(turn, bookings)
    for booking in bookings:
        text, markup = card(turn, booking, states=states)
        turn.say(text, markup)
    if total > PER_PAGE:
        rev = turn.conv.rev + 1  # the chat's revision once this turn is saved
        buttons = []
        if page > 0:
            buttons.append(InlineKeyboardButton(_("‹ Prev"), callback_data=callback_data(
                "*", "mbp", f"{page - 1}.{page}.{rev}")))
        if page < last_page:
            buttons.append(InlineKeyboardButton(_("Next ›"), callback_data=callback_data(
                "*", "mbp", f"{page + 1}.{page}.{rev}")))
        turn.say("🎫 " + _range(page, len(bookings), total), InlineKeyboardMarkup([buttons]))


async def my_bookings(update: Update, context: FlyOContext) -> None:
    """/mybookings: the newest PER_PAGE bookings, one card each."""
    async def body(turn: Turn) -> None:
        await show_page(turn, 0)
    await run_turn(update, context, body)


# ---- the cards' buttons ------------------------------------------------------------------------------
NOT_FOUND = N_("That booking was not found among yours.")


STALE_PAGE = N_("That page is already shown below — send /mybookings for a fresh list.")


async def _run(update: Update, context: FlyOContext, body: Callable[[Turn], Awaitable[bool]], *, save: bool) -> None:
    await run_side_turn(update, context, body, what="a /mybookings button", save=save, stale_notice=_(STALE_PAGE))


async def on_callback(update: Update, context: FlyOContext) -> None:
    """Every "*:mb?:…" button; always answered."""
    press = pressed(update)
    if press is None:
        return
    action, arg = press
    if action == "mbc":
        svc = context.bot_data.services
        user = update.effective_user
        booking = await svc.bookings.own(arg, user.id) if user is not None else None
        if booking is not None:
            from handlers.manage import cancel_booking_command  # the /cancel REF path, as if typed

            await cancel_booking_command(update, context, [booking.reference])
            return
        await _run(update, context, _not_found, save=False)
    elif action in ("mbd", "mbs"):
        async def show(turn: Turn) -> bool:
            booking = await turn.svc.bookings.own(arg, turn.user_id)
            if booking is None:
                await _not_found(turn)
                return False
            text, markup = card(turn, booking, details=action == "mbd", states=await flight_states(turn, [booking]))
            turn.say(text, markup, edit=True)
            return False
        await _run(update, context, show, save=False)
    elif action == "mbt":
        async def ticket(turn: Turn) -> bool:
            booking = await turn.svc.bookings.own(arg, turn.user_id)
            if booking is None or turn.svc.tickets is None:
                return await _not_found(turn)
            turn.notice = await send_ticket(turn, booking, markup=False)  # a toast: the files follow in the chat
            return False
        await _run(update, context, ticket, save=False)
    elif action == "mbp":
        await _run(update, context, lambda turn: _on_page(turn, arg), save=True)
    else:
        await _run(update, context, _not_found, save=False)


async def _not_found(turn: Turn) -> bool:
    turn.notice, turn.alert = _(NOT_FOUND), True
    return False


async def _on_page(turn: Turn, arg: str) -> bool:
    """A page button: shown once per conversation revision (a repeat press changes nothing)."""
    parts = arg.split(".")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 9 for p in parts):
        turn.notice = _("This button is no longer active.")
        return False
    to, came_from, rev = (int(p) for p in parts)
    if rev != turn.conv.rev:
        turn.notice = _(STALE_PAGE)
        return False
    await show_page(turn, to, came_from=came_from)
    return True


