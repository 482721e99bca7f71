"""Fare rules: what each fare allows when it is cancelled — the one place for the rule.

Three conditions, snapshotted on each `Segment.fare_rule` when the booking is made (services.bookings.create), so a
later change of the rules never rewrites what a traveller was sold:

- LIGHT: no refund. Live (airline) fares the airline marks non-refundable (`Flight.refundable is False`).
- STANDARD: refund minus a cancellation fee of STANDARD_FEE_PERCENT of what was paid until 24 h before the booking's
  first departure; no refund from then on. The inventory's economy and premium cabins. The fee is a percentage, not
  a fixed amount, so it works in every currency (no conversion, no rate that moves between sale and refund) and
  scales with the fare (a fixed £25 would swallow a cheap hop and be nothing on a long-haul fare); it is rounded
  half up to whole minor units of the booking's currency.
- FLEX: full refund until the booking's first departure. Business and first, and live fares the airline marks
  refundable. A live fare with `refundable None` follows its cabin.

A booking cancels as a whole, so every deadline counts from its *first* departure. A booking whose segments have
different rules (economy out, business back) refunds each segment's share of what was paid under that segment's
rule: a segment's share is its part of the booking total (seated passengers at its fare, lap infants at its infant
fare, as services.infants.booking_total adds them up), applied to the amount actually paid; the last segment takes
the rounding remainder, so the shares add up to the paid amount exactly. A segment with `fare_rule None` was sold
before fare rules existed and refunds in full, as it was promised then. An admin's cancellation (FlyO support)
refunds in full whatever the rule (services.cancellations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.i18n import _
from models.booking import Booking, Segment
from models.conversation import Pick
from models.flight import Flight
from services.infants import party_price

LIGHT = "light"
STANDARD = "standard"
FLEX = "flex"
RULES = (LIGHT, STANDARD, FLEX)

STANDARD_FEE_PERCENT = 20  # of the segment's share of what was paid
STANDARD_UNTIL = timedelta(hours=24)  # before the first departure
FLEX_CABINS = frozenset({"business", "first"})


@dataclass(frozen=True)
class RefundQuote:
    amount: int  # what cancelling now refunds, minor units of booking.price.currency
    fee: int  # the cancellation fee kept (0 when no refund is due at all, or a full one)
    explanation: str  # translated: the rule(s) behind the amount, e.g. "Standard fare: refund minus a 20% fee …"
    paid: int  # what was paid, for the texts


def rule_for(cabin: str, source: str, refundable: bool | None) -> str:
    """The fare's rule: a live fare by the airline's `refundable` flag when it gives one, else by cabin."""
    if source != "local" and refundable is not None:
        return FLEX if refundable else LIGHT
    return FLEX if cabin.lower() in FLEX_CABINS else STANDARD


def conditions(code: str | None) -> str:
    """The short translated conditions of a rule, as the results, the review and the e-mail show them."""
    if code == LIGHT:
        return _("Light fare: no refund if you cancel")
    if code == STANDARD:
        return _("Standard fare: refund minus a {percent}% fee until 24 h before departure").format(
            percent=STANDARD_FEE_PERCENT)
    if code == FLEX:
        return _("Flex fare: full refund until departure")
    return _("Booked before fare conditions: full refund")


def fee_of(amount: int) -> int:
    """STANDARD_FEE_PERCENT of `amount` (minor units), rounded half up to a whole minor unit."""
    return (amount * STANDARD_FEE_PERCENT + 50) // 100


def shares(booking: Booking) -> list[int]:
    """Each segment's share of what was paid (see the module's docstring); they add up to the paid amount."""
    paid = booking.payment.amount_paid or booking.price.total
    infants = sum(1 for p in booking.passengers if p.on_lap)
    seated = len(booking.passengers) - infants
    weights = [party_price(s.fare_per_passenger, s.infant_fare, seated, infants) for s in booking.segments]
    total = sum(weights)
    if total <= 0:
        weights, total = [1] * len(booking.segments), len(booking.segments)
    parts = [paid * w // total for w in weights[:-1]]
    return [*parts, paid - sum(parts)]


def _segment_refund(segment: Segment, share: int, now: datetime, first_departure: datetime) -> tuple[int, int, str]:
    """(refund, fee, explanation) of one segment's share under its rule."""
    code = segment.fare_rule
    if code == LIGHT:
        return 0, 0, _("Light fare: not refundable")
    if code == STANDARD:
        if now < first_departure - STANDARD_UNTIL:
            fee = fee_of(share)
            return share - fee, fee, conditions(STANDARD)
        return 0, 0, _("Standard fare: no refund from 24 h before departure")
    if code == FLEX:
        if now < first_departure:
            return share, 0, conditions(FLEX)
        return 0, 0, _("Flex fare: no refund after departure")
    return share, 0, conditions(None)  # sold before fare rules (or a rule this version does not know): in full


def refund_quote(booking: Booking, now: datetime) -> RefundQuote:
    """What cancelling `booking` at `now` refunds under its fares' rules (pure; the caller checks it was paid)."""
    first = min(s.flight.departs_at for s in booking.segments)
    amount = fee = 0
    explained: list[str] = []
    for segment, share in zip(booking.segments, shares(booking), strict=True):
        refund, kept, why = _segment_refund(segment, share, now, first)
        amount, fee = amount + refund, fee + kept
        if why not in explained:
            explained.append(why)
    return RefundQuote(amount, fee, "; ".join(explained), booking.payment.amount_paid or booking.price.total)


def full_refund(booking: Booking) -> RefundQuote:
    """An admin's cancellation: everything paid back, whatever the rule."""
    paid = booking.payment.amount_paid or booking.price.total
    return RefundQuote(paid, 0, _("Cancelled by FlyO support: full refund"), paid)


def _distinct(codes: Sequence[str | None]) -> list[str]:
    texts: list[str] = []
    for code in codes:
        text = conditions(code)
        if text not in texts:
            texts.append(text)
    return texts


def conditions_for_picks(picks: Sequence[Pick], flights: Sequence[Flight]) -> list[str]:
    """The review's lines: the conditions of the picked fares (picks and their flights in the same order)."""
    return _distinct([rule_for(p.cabin, f.source, f.refundable) for p, f in zip(picks, flights, strict=True)])


def conditions_for_booking(booking: Booking) -> list[str]:
    """The confirmation e-mail's lines: the conditions the booking was sold with (its segments' snapshots)."""
    return _distinct([s.fare_rule for s in booking.segments])


def conditions_by_cabin(cabins_and_flights: Sequence[tuple[str, Flight]]) -> list[tuple[str, str]]:
    """(cabin, conditions) once per distinct pair, in order: the results' lines under the options shown."""
    seen: list[tuple[str, str]] = []
    for cabin, flight in cabins_and_flights:
        pair = (cabin, conditions(rule_for(cabin, flight.source, flight.refundable)))
        if pair not in seen:
            seen.append(pair)
    return seen
