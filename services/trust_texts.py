"""What travellers and admins are told when Stripe or the seat inventory disagree with a booking (HTML)."""

from __future__ import annotations

import html

from models.booking import Booking
from services.money import money

REFUND_DAYS = "Refunds usually reach your card within 5–10 business days."


def reseated_note(booking: Booking, *, html_text: bool = True) -> str:
    """Appended to the confirmation when a paid seat had been lost and was replaced."""
    if not booking.seat_changes:
        return ""
    moves = ", ".join(f"{old} → {new}" for old, new in booking.seat_changes.items())
    text = (f"\n\n⚠️ Seat change: your original seat was no longer available, so we seated you in an "
            f"equivalent {booking.flight.cabin.lower() or 'cabin'} seat ({moves}).")
    return text if html_text else text.replace("⚠️ ", "")


def no_seat_message(booking: Booking, refunded: int) -> str:
    amount = money(refunded or booking.price.total, booking.price.currency)
    return (f"😔 We're sorry: your payment for booking <b>{booking.reference}</b> arrived, but the seats could no "
            f"longer be kept and the cabin is full. We cancelled the booking and refunded {amount}. {REFUND_DAYS} "
            "Our team has been told and may contact you. Send /search to look for another flight.")


def dashboard_refund_message(booking: Booking, amount: int, *, cancelled: bool) -> str:
    what = (f"was cancelled and {money(amount, booking.price.currency)} refunded" if cancelled
            else f"got a partial refund of {money(amount, booking.price.currency)}; the booking stays confirmed")
    return f"↩️ Booking <b>{booking.reference}</b> {what}. {REFUND_DAYS}"


def refund_failed_message(booking: Booking, amount: int) -> str:
    return (f"⚠️ The refund of {money(amount, booking.price.currency)} for booking <b>{booking.reference}</b> "
            "could not be completed by your bank. Our team has been told and will contact you to arrange it.")


def admin_text(reference: str, what: str, detail: str = "") -> str:
    return f"⚠️ {html.escape(reference)}: {what}" + (f" ({html.escape(detail)})" if detail else "") + "."
