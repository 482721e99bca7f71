"""Domain errors: one root per boundary, each carrying what the traveller or admin needs to know."""

from __future__ import annotations

from core.i18n import _


class FlyOError(Exception):
    """Root of domain errors; `str(error)` is safe and useful to show to the user."""


class SeatUnavailable(FlyOError):
    def __init__(self, seat: str, flight_id: str = "") -> None:
        super().__init__(_("Seat {seat} was just taken by another traveller.").format(seat=seat))
        self.seat = seat
        self.flight_id = flight_id  # which flight of the itinerary ("" when only one is concerned)


class InvalidTransition(FlyOError):
    def __init__(self, reference: str, current: str, wanted: str) -> None:
        super().__init__(_("Booking {reference} is {current}; it cannot become {wanted}.").format(
            reference=reference, current=current, wanted=wanted))
        self.reference, self.current, self.wanted = reference, current, wanted


class NotFound(FlyOError):
    pass


class PriceChanged(FlyOError):
    def __init__(self, old: int, new: int, currency: str) -> None:
        super().__init__(_("The price changed."))
        self.old, self.new, self.currency = old, new, currency


class ProviderUnavailable(FlyOError):
    """A flight provider failed (error, timeout, rate limit); the chain falls back."""


class PaymentsNotConfigured(FlyOError):
    pass


class PaymentError(FlyOError):
    pass


class DatabaseUnavailable(FlyOError):
    def __init__(self) -> None:
        super().__init__(_("FlyO is temporarily unavailable. Please try again in a moment."))


class BookingClosed(FlyOError):
    """The flight departed or is inside the booking cut-off: no fare, hold, booking or payment link."""


class LimitReached(FlyOError):
    """A per-user limit (unpaid bookings, seats held on one flight) would be exceeded."""
