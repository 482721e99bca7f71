"""Airline orders for live (Amadeus) fares: a paid booking becomes an order with the airline, exactly once.

Every live segment of the booking is ordered — a return trip's two one-way offers, a connection's offers — in
ONE Create Orders request: its `data.flightOffers` takes 1 to 6 offers (FlightCreateOrders_v1 spec,
`FlightOrderCreateQuery.flightOffers`, minItems 1 / maxItems 6), so the whole trip is one Amadeus order with one
order id and (normally) one airline PNR; every distinct record locator Amadeus returns is kept and shown. A
segment of FlyO's own inventory (`source` "local") in the same booking is not sent: FlyO sells it itself.

When: right after payment, while the Stripe event that confirmed the booking is applied (`PaymentEvents.fulfil`).
Not before payment: the price check (Flight Offers Price) already happens before the traveller pays, and an
order holds airline seats — creating it first would hold seats for bookings nobody pays for. Not later: the
airline only holds the offer once the order exists, so waiting risks selling a fare that is gone. When the
order fails for good the payment is refunded in full, the booking cancelled, and the traveller and the admins
told (`PaymentEvents`): a paid traveller always ends with a confirmed order or a refund.

Exactly once, though Amadeus has no idempotency key: the booking's `AirlineOrder` row (unique `booking_id`)
is inserted first, and each Create Orders call is claimed on it by a conditional update (`calling_ms`), so a
webhook delivered twice, the sweep and two workers never send two requests at once. The outcome of a call:

* created → order id and PNR stored; the confirmation shows them;
* refused (4xx) → failed: refund + cancel;
* Amadeus answered it could not (5xx, 429, credentials) or the connection failed → nothing was made: the claim
  is released and `OrderRetryLater` raised, so the inbox worker retries the event with its backoff (5 s, 30 s,
  2 min, 10 min, 30 min); the last attempt that still fails gives up: refund + cancel;
* no answer (timeout), or a claim whose caller vanished (a crash mid-call, seen once the call is a minute
  old) → the outcome is unknown and the request is **never sent again** (it could make a second order):
  failed, refund + cancel, and the admins are asked to look for (and cancel) an order in Amadeus.

Cancelling a booking deletes its order in Amadeus; a failure to do so alerts the admins and never blocks the
refund.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from core.clock import Clock
from core.errors import FlyOError, ProviderUnavailable
from models.airline_order import AirlineOrder, AirlineOrderStatus
from models.booking import Booking, Segment
from models.flight import Flight
from repos.airline_orders import AirlineOrderRepo
from services.inbox import BACKOFF_SECONDS
from services.notifications import NotificationService
from services.providers.base import ProviderRejected

log = logging.getLogger(__name__)

MAX_CALLS = len(BACKOFF_SECONDS) + 1  # one per inbox attempt: the last one that fails gives up
MAX_OFFERS = 6  # Create Orders' data.flightOffers takes 1 to 6 offers (FlightCreateOrders_v1 spec)
STALE_CALL_MS = 60_000  # far beyond any call's timeout: a claim this old lost its caller


class OrderOutcomeUnknown(ProviderUnavailable):
    """No answer to a Create Orders request: an order may or may not exist. Never send it again."""


class OrderRetryLater(FlyOError):
    """The order could not be made yet (Amadeus unavailable, or another worker is making it): raise so the
    Stripe event is retried with the inbox's backoff."""


@dataclass(frozen=True)
class OrderTraveler:
    first_name: str
    last_name: str
    birth_date: date
    email: str | None = None
    phone: str | None = None  # E.164


class OrderGateway(Protocol):
    async def create_order(self, offers: list[dict[str, Any]], travelers: list[OrderTraveler]
                           ) -> tuple[str, list[str]]:
        """One order holding every offer (in trip order): (order id, its distinct PNRs, at least one);
        ProviderRejected when refused, OrderOutcomeUnknown without an answer, ProviderUnavailable when Amadeus
        answered it could not."""

    async def offer_for(self, flight: Flight, cabin: str, travelers: int) -> tuple[dict[str, Any], int, str] | None:
        """The flight and cabin priced again for `travelers`: (offer, fare per passenger, currency), or None."""

    async def cancel_order(self, order_id: str) -> None:
        """Delete the order; ProviderUnavailable on failure."""


def travelers_of(booking: Booking) -> list[OrderTraveler]:
    """Each passenger's name and date of birth; the booking's contact e-mail and phone on the first."""
    result = []
    for index, passenger in enumerate(booking.passengers):
        if passenger.birth_date is None:  # only a booking whose trip is over is redacted: never ordered then
            raise ValueError(f"booking {booking.reference} has no personal details left to order with")
        first, _sep, last = passenger.full_name.strip().rpartition(" ")
        first, last = (first, last) if first else (last, last)
        result.append(OrderTraveler(first, last, passenger.birth_date,
                                    email=(passenger.email or booking.email) if index == 0 else None,
                                    phone=passenger.phone if index == 0 else None))
    return result


class AirlineOrderService:
    def __init__(self, clock: Clock, gateway: OrderGateway, notifications: NotificationService,
                 repo: AirlineOrderRepo | None = None, *, source: str = "amadeus") -> None:
        """`source`: the flights (`Flight.source`) whose bookings get an airline order."""
        self.source = source
        self.clock = clock
        self.gateway = gateway
        self.notify = notifications
        self.repo = repo or AirlineOrderRepo()

    async def order_of(self, booking: Booking) -> AirlineOrder | None:
        return await self.repo.get(str(booking.id))

    # ---- creating ------------------------------------------------------------------------------------
    def live_segments(self, booking: Booking) -> list[tuple[int, Segment]]:
        """The booking's segments (with their index) sold by this source, in trip order."""
        return [(i, s) for i, s in enumerate(booking.segments) if s.flight.source == self.source]

    async def place(self, booking: Booking, flights: Mapping[str, Flight | None]) -> AirlineOrder:
        """The booking's order, made now if it has none: CREATED, or FAILED (the caller refunds and cancels).

        `flights`: the live segments' current flights by id (None when gone), for an offer the booking did not
        keep. Repeat-safe. Raises OrderRetryLater when it should be tried again later.
        """
        booking_id = str(booking.id)
        now_ms = self.clock.now_ms()
        await self.repo.claim(booking_id, booking.reference, self.clock.now(), now_ms)
        order = await self.repo.get(booking_id)
        if order is None:  # pragma: no cover - just inserted or found
            raise OrderRetryLater("the order row vanished")
        if order.status != AirlineOrderStatus.PENDING:
            return order
        if order.calling_ms is not None:
            if now_ms - order.calling_ms < STALE_CALL_MS:
                raise OrderRetryLater("the airline order is being created by another worker")
            return await self._unknown(order, "the order call was cut short (no answer recorded)")
        live = self.live_segments(booking)
        if not live:
            return await self._fail(order, "no live segment to order")
        kept: list[tuple[int, Segment, dict[str, Any]]] = []
        for index, segment in live:
            flight = flights.get(segment.flight.flight_id)
            offer = segment.flight.offer or (flight.offer if flight is not None else None)
            if not offer:
                return await self._fail(order, f"no offer kept for {segment.flight.flight_number}")
            kept.append((index, segment, offer))
        if order.next_attempt_ms > now_ms:
            raise OrderRetryLater(f"airline order retry not due yet ({order.last_error})")
        if not await self.repo.start_call(order, now_ms):
            raise OrderRetryLater("the airline order was claimed by another worker")
        calls = order.attempts + 1
        try:
            offers: list[dict[str, Any]] = []
            for _index, segment, offer in kept:
                found = await self._offer(booking, segment, flights.get(segment.flight.flight_id), offer)
                if isinstance(found, str):
                    return await self._fail(order, found)
                if found not in offers:  # a connection priced as one offer is ordered once
                    offers.append(found)
            if len(offers) > MAX_OFFERS:
                return await self._fail(order, f"{len(offers)} flight offers; one order takes {MAX_OFFERS}")
            order_id, pnrs = await self.gateway.create_order(offers, travelers_of(booking))
        except OrderOutcomeUnknown as exc:
            return await self._unknown(order, str(exc))
        except ProviderRejected as exc:
            return await self._fail(order, f"refused by Amadeus: {exc}")
        except ProviderUnavailable as exc:
            if calls >= MAX_CALLS:
                return await self._fail(order, f"{exc} ({calls} attempts)")
            retry_ms = now_ms + BACKOFF_SECONDS[calls - 1] * 1000
            await self.repo.end_call(booking_id, str(exc), retry_ms, self.clock.now_ms())
            log.warning("airline order attempt %s failed: %s", calls, exc, extra={"booking": booking.reference})
            raise OrderRetryLater(f"airline order not created yet: {exc}") from None
        legs = [index for index, _segment, _offer in kept]
        await self.repo.created(booking_id, order_id, pnrs, legs, self.clock.now_ms())
        log.info("airline order %s created (%s offer(s)), PNR %s", order_id, len(offers), ", ".join(pnrs),
                 extra={"booking": booking.reference})
        return await self.repo.get(booking_id) or order

    async def _offer(self, booking: Booking, segment: Segment, flight: Flight | None,
                     kept: dict[str, Any]) -> dict[str, Any] | str:
        """The segment's offer to order: the one the traveller booked (or, for a booking from before bookings kept
        it, the flight's) when it is for this many travellers; else the flight priced again — at the segment's
        fare paid, or why not."""
        travelers = len(booking.passengers)
        pricings = kept.get("travelerPricings")
        if not isinstance(pricings, list) or len(pricings) == travelers:
            return kept
        if flight is None:
            return f"{segment.flight.flight_number} is no longer known, so it cannot be priced again"
        found = await self.gateway.offer_for(flight, segment.flight.cabin, travelers)
        if found is None:
            return f"Amadeus no longer offers {flight.flight_number} for {travelers} traveller(s)"
        offer, fare, currency = found
        if (fare, currency) != (segment.fare_per_passenger, booking.price.currency):
            return (f"the fare of {flight.flight_number} for {travelers} traveller(s) is now {fare} {currency}, "
                    f"paid {segment.fare_per_passenger} {booking.price.currency} (minor units)")
        return offer

    async def _fail(self, order: AirlineOrder, error: str) -> AirlineOrder:
        await self.repo.failed(order.booking_id, error[:300], self.clock.now_ms())
        log.warning("airline order failed: %s", error, extra={"booking": order.reference})
        return await self.repo.get(order.booking_id) or order

    async def _unknown(self, order: AirlineOrder, error: str) -> AirlineOrder:
        await self.notify.tell_admins(
            f"order-unknown:{order.booking_id}",
            f"🚨 {order.reference}: the Amadeus order request got no answer ({error}); an airline order may exist "
            f"although FlyO has no id for it. The booking is refunded and cancelled: please look for an order "
            f"for this traveller in Amadeus and cancel it.", reference=order.reference)
        return await self._fail(order, f"outcome unknown: {error}")

    # ---- cancelling ----------------------------------------------------------------------------------
    async def cancel(self, booking: Booking) -> None:
        """Delete the booking's order in Amadeus (repeat-safe); a failure alerts the admins and never raises."""
        booking_id = str(booking.id)
        order = await self.repo.get(booking_id)
        if order is None or order.status in (AirlineOrderStatus.CANCELLED, AirlineOrderStatus.FAILED):
            return
        if order.status == AirlineOrderStatus.PENDING:
            if not await self.repo.withdraw(booking_id, self.clock.now_ms()):
                await self.notify.tell_admins(
                    f"order-cancel-racing:{booking_id}",
                    f"⚠️ {booking.reference} was cancelled while its Amadeus order was being created; check "
                    f"Amadeus and cancel the order if it exists.", reference=booking.reference)
            return
        assert order.order_id is not None
        try:
            await self.gateway.cancel_order(order.order_id)
        except ProviderUnavailable as exc:
            await self.repo.note_error(booking_id, f"cancel failed: {exc}"[:300], self.clock.now_ms())
            log.warning("could not cancel airline order %s: %s", order.order_id, exc,
                        extra={"booking": booking.reference})
            await self.notify.tell_admins(
                f"order-cancel-failed:{booking_id}",
                f"⚠️ {booking.reference} is cancelled but its Amadeus order {order.order_id} "
                f"(PNR {', '.join(order.references)}) "
                f"could not be cancelled: {exc}. Please cancel it in Amadeus.", reference=booking.reference)
            return
        await self.repo.cancelled(booking_id, self.clock.now_ms())
        log.info("airline order %s cancelled", order.order_id, extra={"booking": booking.reference})

