"""Payment step: the Stripe Checkout link as a URL button; "Pay again" after an expiry or failure."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.errors import FlyOError, InvalidTransition, PaymentsNotConfigured, SeatUnavailable
from core.i18n import _
from handlers.render import esc, money
from handlers.turn import Turn, callback_data
from models.booking import Booking, BookingStatus
from services import itinerary_texts


async def offer_payment(turn: Turn, booking: Booking) -> None:
    """Sends the payment link for a PENDING booking (or says why there is none)."""
    payments = turn.svc.payments
    if payments is None:
        turn.say(_(
            "🎫 Booking <b>{reference}</b> is <b>{status}</b>: {flight} {origin} → {destination}, seats {seats}, "
            "total {total}.\nPayments are not configured on this FlyO (no Stripe key), so the booking stays PENDING "
            "until its seats' hold ends. /mybookings shows it."
        ).format(reference=booking.reference, status=itinerary_texts.status_label(booking.status),
                 flight=esc(itinerary_texts.flight_numbers(booking)), origin=booking.first_flight.origin,
                 destination=booking.legs()[0][-1].flight.destination, seats=itinerary_texts.seats(booking),
                 total=money(booking.price.total, booking.price.currency)))
        return
    retry = InlineKeyboardMarkup([[InlineKeyboardButton(
        _("🔁 Try again"), callback_data=callback_data("*", "pay", str(booking.id)))]])
    try:
        link = await payments.ensure_link(booking, fresh=True)  # both callers have just read it
    except InvalidTransition as exc:
        turn.say(f"{esc(exc)} " + _("/mybookings shows your bookings."))
        return
    except SeatUnavailable:
        turn.say(_("😕 The seats of booking <b>{reference}</b> are no longer available, so it can't be paid. "
                   "Send /search to pick a flight again.").format(reference=booking.reference))
        return
    except PaymentsNotConfigured as exc:
        turn.say(esc(exc))
        return
    except FlyOError as exc:
        turn.say(f"😕 {esc(exc)} " + _("Your seats are still held."), retry)
        return
    button = InlineKeyboardButton(_("💳 Pay {total}").format(
                                      total=money(link.booking.price.total, link.booking.price.currency)),
                                  url=link.url)
    prefix = _("This is the payment link you already have.") + "\n" if link.reused else ""
    turn.say(prefix + payments.link_text(link), InlineKeyboardMarkup([[button]]))


async def on_pay(turn: Turn, booking_id: str) -> None:
    """The "Pay again" / "Try again" button: a valid link for the traveller's own PENDING booking."""
    booking = await turn.svc.bookings.get(booking_id) if len(booking_id) == 24 else None
    if booking is None or booking.user_id != turn.user_id:
        turn.notice = _("That booking is not yours or no longer exists.")
        return
    if booking.status != BookingStatus.PENDING:
        turn.notice = _("Booking {reference} is {status}; nothing to pay.").format(
            reference=booking.reference, status=itinerary_texts.status_label(booking.status))
        return
    await offer_payment(turn, booking)


async def show_status(turn: Turn) -> None:
    """The booked step: the payment link of its booking while that is PENDING."""
    booking_id = turn.draft.booking_id
    made = turn.booking if turn.booking is not None and str(turn.booking.id) == booking_id else None
    booking = made or (await turn.svc.bookings.get(booking_id) if booking_id else None)
    if booking is None or booking.status != BookingStatus.PENDING:
        turn.say(_("Send /search to find a flight, or /mybookings to see your bookings."))
        return
    await offer_payment(turn, booking)
