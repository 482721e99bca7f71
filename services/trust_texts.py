"""What travellers and admins are told when Stripe or the seat inventory disagree with a booking (HTML)."""

from __future__ import annotations

import html

from core.formatting import cabin_name
from core.i18n import N_, _
from models.booking import Booking
from services.money import money

REFUND_DAYS = N_("Refunds usually reach your card within 5–10 business days.")


def reseated_note(booking: Booking, *, html_text: bool = True) -> str:
    """Appended to the confirmation when a paid seat had been lost and was replaced."""
    changed = [s for s in booking.segments if s.seat_changes]
    if not changed:
        return ""
    several = len(booking.segments) > 1
    moves = ", ".join(f"{s.flight.flight_number} {old} → {new}" if several else f"{old} → {new}"
                      for s in changed for old, new in s.seat_changes.items())
    cabin = cabin_name(changed[0].flight.cabin) if changed[0].flight.cabin else _("cabin")
    text = "\n\n⚠️ " + _("Seat change: your original seat was no longer available, so we seated you in an "
                          "equivalent {cabin} seat ({moves}).").format(cabin=cabin, moves=moves)
    return text if html_text else text.replace("⚠️ ", "")


def no_seat_message(booking: Booking, refunded: int) -> str:
    amount = money(refunded or booking.price.total, booking.price.currency)
    return "😔 " + _("We're sorry: your payment for booking <b>{reference}</b> arrived, but the seats could no "
                    "longer be kept and the cabin is full. We cancelled the booking and refunded {amount}. "
                    "{refund_days} Our team has been told and may contact you. Send /search to look for another "
                    "flight.").format(reference=booking.reference, amount=amount, refund_days=_(REFUND_DAYS))


def dashboard_refund_message(booking: Booking, amount: int, *, cancelled: bool) -> str:
    shown = money(amount, booking.price.currency)
    if cancelled:
        text = _("Booking <b>{reference}</b> was cancelled and {amount} refunded.")
    else:
        text = _("Booking <b>{reference}</b> got a partial refund of {amount}; the booking stays confirmed.")
    return "↩️ " + text.format(reference=booking.reference, amount=shown) + " " + _(REFUND_DAYS)


def refund_failed_message(booking: Booking, amount: int) -> str:
    return "⚠️ " + _("The refund of {amount} for booking <b>{reference}</b> could not be completed by your bank. "
                    "Our team has been told and will contact you to arrange it.").format(
        amount=money(amount, booking.price.currency), reference=booking.reference)


def admin_text(reference: str, what: str, detail: str = "") -> str:
    """Admin alerts stay in English (the on-call language), so they are not translated."""
    return f"⚠️ {html.escape(reference)}: {what}" + (f" ({html.escape(detail)})" if detail else "") + "."
