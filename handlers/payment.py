"""Payment step: the Stripe Checkout link for a PENDING booking (see services.payments)."""

from __future__ import annotations

from handlers.render import esc, money
from handlers.turn import Turn
from models.booking import Booking


async def offer_payment(turn: Turn, booking: Booking) -> None:
    turn.say(
        f"🎫 Booking <b>{booking.reference}</b> is <b>{booking.status.value}</b>: "
        f"{esc(booking.flight.flight_number)} {booking.flight.origin} → {booking.flight.destination}, "
        f"seats {', '.join(booking.seats)}, total {money(booking.price.total, booking.price.currency)}.\n"
        "Payments are not configured on this FlyO yet, so the booking stays PENDING and the seats are held "
        f"until the payment deadline. /mybookings shows it."
    )


async def show_status(turn: Turn) -> None:
    booking_id = turn.draft.get("booking_id")
    booking = await turn.svc.bookings.get(booking_id) if booking_id else None
    if booking is None:
        turn.say("Send /search to find a flight.")
        return
    await offer_payment(turn, booking)
