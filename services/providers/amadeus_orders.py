"""Amadeus Flight Create Orders and Flight Order Management (cancel): the airline side of a paid live fare.

Same plumbing as the search adapter (services.providers.amadeus: the sync SDK in a worker thread under a
timeout, a fresh token when Amadeus says it expired), with the errors sorted for an order, whose creation
cannot be repeated blindly (Amadeus has no idempotency key):

* an answer refusing the request (4xx other than auth/rate limit) → `ProviderRejected`: definitive;
* an answer saying Amadeus could not do it now (5xx, 429, refused credentials), or a request that could not be
  connected or sent (the SDK's NetworkError) → `ProviderUnavailable`: no order was made; safe to try again;
* no answer within the timeout, or a connection lost after the request was sent → `OrderOutcomeUnknown`:
  the order may exist; never sent again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

import amadeus
import phonenumbers

from models.flight import Flight
from services.airline_orders import MAX_OFFERS, OrderOutcomeUnknown, OrderTraveler
from services.providers.amadeus import AmadeusProvider, translate
from services.providers.amadeus_parse import JSON

__all__ = ["MAX_OFFERS", "AmadeusOrders", "order_offers", "traveler_json"]

log = logging.getLogger(__name__)


def traveler_json(index: int, traveler: OrderTraveler) -> JSON:
    """One `travelers[]` entry; ids "1", "2"… match the offer's `travelerPricings[].travelerId`."""
    entry: JSON = {"id": str(index + 1), "dateOfBirth": traveler.birth_date.isoformat(),
                   "name": {"firstName": traveler.first_name.upper(), "lastName": traveler.last_name.upper()}}
    contact: JSON = {}
    if traveler.email:
        contact["emailAddress"] = traveler.email
    phone = _phone(traveler.phone)
    if phone is not None:
        contact["phones"] = [phone]
    if contact:
        entry["contact"] = contact
    return entry


def order_offers(offers: list[JSON]) -> list[JSON]:
    """The `flightOffers` of one Create Orders request: each offer as priced, its `id` renumbered "1", "2"… in
    trip order — the legs of a return trip come from separate one-way searches, so both are often "1", and the
    answer's `associatedRecords[].flightOfferId` names offers by id. At most 6 (the API's maxItems)."""
    if not 1 <= len(offers) <= MAX_OFFERS:
        raise ValueError(f"Create Orders takes 1 to {MAX_OFFERS} flight offers, not {len(offers)}")
    return [{**offer, "id": str(index + 1)} for index, offer in enumerate(offers)]


def _phone(e164: str | None) -> JSON | None:
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return {"deviceType": "MOBILE", "countryCallingCode": str(number.country_code),
            "number": str(number.national_number)}


class AmadeusOrders:
    """`create_order` / `cancel_order` through the search adapter's SDK client (one token cache)."""

    def __init__(self, provider: AmadeusProvider) -> None:
        self.provider = provider
        self.timeout = provider.timeout

    async def create_order(self, offers: list[JSON], travelers: list[OrderTraveler]) -> tuple[str, list[str]]:
        """POST /v1/booking/flight-orders with every priced offer of the trip in one request → (Amadeus order id,
        the distinct airline PNRs of its `associatedRecords`, in order)."""
        body = [traveler_json(i, t) for i, t in enumerate(travelers)]
        response = await self._call(self.provider.client.booking.flight_orders.post, order_offers(offers), body)
        result = getattr(response, "result", None)
        data = result.get("data") if isinstance(result, dict) else None
        try:
            assert isinstance(data, dict)
            order_id = str(data["id"])
            pnrs = list(dict.fromkeys(str(record["reference"]) for record in data["associatedRecords"]))
            assert pnrs and all(pnrs)
        except (AssertionError, KeyError, IndexError, TypeError) as exc:
            # Amadeus answered 2xx: an order exists but we can't read it; never send it again.
            raise OrderOutcomeUnknown(f"unreadable order answer ({exc.__class__.__name__})") from None
        return order_id, pnrs

    async def offer_for(self, flight: Flight, cabin: str, travelers: int) -> tuple[JSON, int, str] | None:
        """The same flight and cabin searched and priced again for `travelers` adults: (priced offer, fare per
        passenger in minor units, currency); None when Amadeus no longer offers it."""
        day = date.fromisoformat(flight.departure_date)
        for parsed in await self.provider.fetch_offers(flight.origin, flight.destination, day, travelers):
            if parsed.flight_number == flight.flight_number and parsed.cabin == cabin and not parsed.stops:
                quote = await self.provider.price_offer(parsed.offer)
                priced = quote.offer if isinstance(quote.offer, dict) else parsed.offer
                return dict(priced), quote.per_passenger, quote.currency
        return None

    async def cancel_order(self, order_id: str) -> None:
        """DELETE /v1/booking/flight-orders/{id} (204). An order Amadeus no longer knows counts as cancelled."""
        gone = await self._call(lambda: self.provider.client.booking.flight_order(order_id).delete(),
                                missing_ok=True)
        if gone is None:
            log.info("flight order %s was already gone", order_id)

    async def _call(self, fn: Any, *args: Any, missing_ok: bool = False) -> Any:
        """The SDK call's response; None for a 404 when `missing_ok`."""
        try:
            work = asyncio.to_thread(self.provider._blocking, fn, *args)
            return await asyncio.wait_for(work, self.timeout)
        except TimeoutError:
            raise OrderOutcomeUnknown(f"no answer within {self.timeout:g} s") from None
        except amadeus.NotFoundError as exc:
            if missing_ok:
                return None
            raise translate(exc) from None
        except amadeus.ResponseError as exc:
            raise translate(exc) from None
        except OSError as exc:
            # urllib wraps failures to connect or send in URLError (the SDK's NetworkError, above); an OSError
            # reaching here broke the connection after the request was sent: Amadeus may have acted on it.
            raise OrderOutcomeUnknown(f"connection lost awaiting the answer ({exc.__class__.__name__})") from None
