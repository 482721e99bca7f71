"""Amadeus adapter: Flight Offers Search, Flight Offers Price, SeatMap Display, Airport & City Search.

The SDK (amadeus 12) is synchronous urllib without a timeout, so every call runs in a worker thread under
`asyncio.wait_for(AMADEUS_TIMEOUT_SECONDS)`; the socket also gets a timeout (one second longer) so a thread
left behind by a timed-out call ends soon after instead of holding an executor slot. SDK exceptions are
translated here and nowhere else: callers only ever see core.errors.ProviderUnavailable.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.request import urlopen

import amadeus

from core.config import parse_api_url
from core.errors import ProviderUnavailable
from models.airport import Airport
from models.flight import Flight, route_key
from repos.flights import AirportRepo, FlightRepo
from services.providers.amadeus_parse import (
    JSON,
    OfferFormatError,
    ParsedOffer,
    parse_locations,
    parse_price,
    parse_search,
    parse_seatmap,
)
from services.providers.base import LIVE_LABEL, ProviderRejected, Quote, SeatMap

__all__ = ["AmadeusProvider", "save_offer", "translate"]

log = logging.getLogger(__name__)
_flights = FlightRepo()

TOKEN_PATH = "/v1/security/oauth2/token"
EXPIRED_TOKEN = 38190  # Amadeus: "Invalid access token" — the SDK keeps a revoked token until its expiry


def _error_code(exc: amadeus.ResponseError) -> int | None:
    result = getattr(exc.response, "result", None)
    if isinstance(result, dict):
        errors = result.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = errors[0].get("code")
            return int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    return None


def translate(exc: amadeus.ResponseError) -> ProviderUnavailable:
    """One short reason per failure kind; request-level refusals are ProviderRejected (no breaker failure)."""
    status = getattr(exc.response, "status_code", None)
    if isinstance(exc, amadeus.NetworkError) or status is None:
        return ProviderUnavailable("network error")
    if isinstance(exc, amadeus.ParserError):
        return ProviderUnavailable("unreadable answer")
    if status == 429:
        return ProviderUnavailable("rate limited, HTTP 429")
    if status >= 500:
        return ProviderUnavailable(f"server error, HTTP {status}")
    token_request = getattr(getattr(exc.response, "request", None), "path", "") == TOKEN_PATH
    if status in (401, 403) or token_request:  # any refused token request means our credentials are wrong
        return ProviderUnavailable(f"credentials refused, HTTP {status}")
    return ProviderRejected(f"request refused, HTTP {status}")


def _body(response: Any) -> JSON:
    result = getattr(response, "result", None)
    if not isinstance(result, dict):
        raise ProviderUnavailable("unreadable answer")
    return result


class AmadeusProvider:
    name = "amadeus"
    label = LIVE_LABEL

    def __init__(self, client_id: str, client_secret: str, api_url: str, timeout_seconds: float = 4.0,
                 *, max_offers: int = 20) -> None:
        host, port, ssl = parse_api_url(api_url)
        self.timeout = timeout_seconds
        self.max_offers = max_offers
        self.client = amadeus.Client(
            client_id=client_id, client_secret=client_secret, host=host, port=port, ssl=ssl,
            http=functools.partial(urlopen, timeout=timeout_seconds + 1), logger=log, log_level="silent",
        )
        _drop_sdk_stdout_handler()

    # ---- the four provider calls -------------------------------------------------------------------
    async def search(self, origins: list[str], destinations: list[str], day: date,
                     passengers: int) -> list[Flight]:
        """Direct flights only: seat maps, holds and bookings are per flight, not per connection."""
        origin, destination = await _search_code(origins), await _search_code(destinations)
        if origin is None or destination is None:
            raise ProviderRejected("airports of different cities in one search")
        offers = await self.fetch_offers(origin, destination, day, passengers)
        ids = []
        seen: set[str] = set()
        for parsed in offers:  # Amadeus sorts by price, so the first offer of a flight is its cheapest
            if (parsed.stops or parsed.origin not in origins or parsed.destination not in destinations
                    or parsed.departure_date != day.isoformat() or parsed.flight_number in seen):
                continue
            seen.add(parsed.flight_number)
            flight_id = await save_offer(parsed)
            if flight_id is not None:
                ids.append(flight_id)
        return await _flights.by_ids(ids)

    async def fetch_offers(self, origin: str, destination: str, day: date, adults: int) -> list[ParsedOffer]:
        response = await self._call(
            self.client.shopping.flight_offers_search.get, originLocationCode=origin,
            destinationLocationCode=destination, departureDate=day.isoformat(), adults=adults, nonStop="true",
            max=self.max_offers,
        )
        try:
            return parse_search(_body(response))
        except OfferFormatError as exc:
            raise ProviderUnavailable(f"unreadable offers ({exc})") from None

    async def price(self, flight: Flight, cabin: str) -> Quote:
        if not flight.offer:
            raise ProviderRejected("no offer to price")
        return await self.price_offer(flight.offer)

    async def price_offer(self, offer: JSON) -> Quote:
        response = await self._call(self.client.shopping.flight_offers.pricing.post, offer)
        try:
            return parse_price(_body(response))
        except (OfferFormatError, KeyError, TypeError, ValueError) as exc:
            raise ProviderUnavailable(f"unreadable price ({exc})") from None

    async def seat_map(self, flight: Flight, cabin: str) -> SeatMap | None:
        if not flight.offer:
            return None
        return await self.seat_map_of(flight.offer, cabin)

    async def seat_map_of(self, offer: JSON, cabin: str) -> SeatMap | None:
        response = await self._call(self.client.shopping.seatmaps.post, {"data": [offer]})
        try:
            return parse_seatmap(_body(response), cabin)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderUnavailable(f"unreadable seat map ({exc})") from None

    async def airports(self, keyword: str) -> list[Airport]:
        response = await self._call(self.client.reference_data.locations.get, subType="AIRPORT,CITY",
                                    keyword=keyword.strip())
        return parse_locations(_body(response))

    # ---- plumbing ----------------------------------------------------------------------------------
    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            work = asyncio.to_thread(self._blocking, fn, *args, **kwargs)
            return await asyncio.wait_for(work, self.timeout)
        except TimeoutError:
            raise ProviderUnavailable(f"no answer within {self.timeout:g} s") from None
        except amadeus.ResponseError as exc:
            raise translate(exc) from None
        except OSError as exc:  # raised by urllib past the SDK (e.g. a reset connection while reading)
            raise ProviderUnavailable(f"network error ({exc.__class__.__name__})") from None

    def _blocking(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """In the worker thread: the call, retried once with a fresh token when Amadeus says it expired."""
        try:
            return fn(*args, **kwargs)
        except amadeus.AuthenticationError as exc:
            if _error_code(exc) != EXPIRED_TOKEN:
                raise
            self.client.__dict__.pop("access_token", None)  # the SDK memoises it there; gone → fetched again
            return fn(*args, **kwargs)


async def _search_code(codes: list[str]) -> str | None:
    """One code for Amadeus: the airport, or the metropolitan code when all airports share one (LON)."""
    if len(codes) == 1:
        return codes[0]
    metros = {a.metro for a in await AirportRepo().with_codes(codes)}
    return metros.pop() if len(metros) == 1 and "" not in metros else None


async def save_offer(parsed: ParsedOffer) -> Any:
    """Store the offer as a Flight (key: number + date); its id, or None when a local flight owns the key."""
    key = {"flight_number": parsed.flight_number, "departure_date": parsed.departure_date,
           "source": "amadeus"}
    fields = {
        "origin": parsed.origin, "destination": parsed.destination, "aircraft": parsed.aircraft,
        "currency": parsed.currency, "fares": {parsed.cabin: parsed.per_passenger},
        "capacity": {parsed.cabin: parsed.seats}, "external_id": parsed.offer_id, "offer": parsed.offer,
        "refundable": parsed.refundable, "checked_bags": parsed.checked_bags,
        "route_key": route_key(parsed.origin, parsed.destination, parsed.departure_date),
    }
    flight_id = await _flights.save_offer(key, fields, parsed.departs_at, parsed.arrives_at)
    if flight_id is None:
        log.warning("Amadeus flight %s on %s clashes with a local flight; skipped",
                    parsed.flight_number, parsed.departure_date)
    return flight_id


def _drop_sdk_stdout_handler() -> None:
    # amadeus.Client adds a stdout handler to the "amadeus" logger on every construction, even when given
    # its own logger; FlyO logs through its own configuration, so remove what the SDK just added.
    sdk_logger = logging.getLogger("amadeus")
    for handler in list(sdk_logger.handlers):
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            sdk_logger.removeHandler(handler)
