"""A loopback Amadeus Self-Service fake for FlyO's search, pricing and seat-map tests.

Why it exists: FlyO calls Amadeus through the real `amadeus` SDK (synchronous urllib; call it via
`asyncio.to_thread`), pointed here with
`amadeus.Client(client_id=..., client_secret=..., host="127.0.0.1", port=fake.port, ssl=False)`.
Tests need realistic offers, price changes between search and pricing, seat maps with occupied seats, and
Amadeus failures (500s, rejected credentials, unparsable bodies) on demand - without the test environment's
rate limits or past-dated canned data.

Shapes follow the Amadeus OpenAPI examples and captured responses (Flight Offers Search v2, Flight Offers
Price v1, SeatMap Display v1, Airport & City Search v1): `{"meta", "data", "dictionaries"}` bodies, errors as
`{"errors": [{"status", "code", "title", "detail", "source"}]}`, OAuth errors in the flat
`{"error", "error_description", "code", "title"}` shape.

SDK quirk this fake depends on: amadeus 12.0.0 treats a body as JSON only when Content-Type is exactly
`application/json` or `application/vnd.amadeus+json` (no `; charset=...`), so every response here sets it
bare.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import secrets
import string
from collections.abc import Collection, Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.typedefs import Handler

from ._server import Fault, RecordingServer, route
from ._server import RecordedRequest as RecordedRequest

JSON = dict[str, Any]

AMADEUS_JSON = "application/vnd.amadeus+json"
TOKEN_PATH = "/v1/security/oauth2/token"
_SELF_BASE = "https://test.api.amadeus.com"
_CENT = Decimal("0.01")

INVALID_TOKEN_BODY: JSON = {
    "errors": [
        {
            "code": 38190,
            "title": "Invalid access token",
            "detail": "The access token provided in the Authorization header is invalid",
            "status": 401,
        }
    ]
}
INVALID_CLIENT_BODY: JSON = {
    "error": "invalid_client",
    "error_description": "Client credentials are invalid",
    "code": 38187,
    "title": "Invalid parameters",
}
UNSUPPORTED_GRANT_BODY: JSON = {
    "error": "unsupported_grant_type",
    "error_description": "Only client_credentials value is allowed for the body parameter grant_type",
    "code": 38187,
    "title": "Invalid parameters",
}
# Flight Create Orders refusing a sale (the airline no longer sells the fare): a definitive 400.
SELL_FAILURE_BODY: JSON = {
    "errors": [
        {
            "status": 400,
            "code": 34651,
            "title": "SEGMENT SELL FAILURE",
            "detail": "Could not sell segment 1",
        }
    ]
}
ORDERS_PATH = "/v1/booking/flight-orders"
MAX_ORDER_OFFERS = 6  # FlightCreateOrders_v1 spec: FlightOrderCreateQuery.flightOffers maxItems
_ORDER_EXAMPLE = (
    Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "amadeus"
    / "flight_create_orders.POST_v1_booking_flight-orders.201.json"
)
MALFORMED_BODY = b'{"meta": {"count": 1}, "data": [{"type": "flight-offer", "id": "1", "itineraries": ['

# Hand-kept lookups for `dictionaries`; unknown codes fall back to airportsdata (if installed) or the code.
_CITY_CODES = {
    "LHR": "LON", "LGW": "LON", "STN": "LON", "LTN": "LON", "LCY": "LON", "JFK": "NYC", "LGA": "NYC",
    "EWR": "NYC", "CDG": "PAR", "ORY": "PAR", "FCO": "ROM", "CIA": "ROM", "MXP": "MIL", "LIN": "MIL",
    "HND": "TYO", "NRT": "TYO", "GIG": "RIO", "CMN": "CAS", "IAD": "WAS", "DCA": "WAS", "ORD": "CHI",
}  # fmt: skip
_AIRCRAFT = {
    "320": "AIRBUS A320", "321": "AIRBUS A321", "32N": "AIRBUS A320NEO", "333": "AIRBUS A330-300",
    "359": "AIRBUS A350-900", "388": "AIRBUS A380-800", "744": "BOEING 747-400", "738": "BOEING 737-800",
    "772": "BOEING 777-200/200ER", "77W": "BOEING 777-300ER", "788": "BOEING 787-8", "789": "BOEING 787-9",
}  # fmt: skip
_CARRIERS = {
    "BA": "BRITISH AIRWAYS", "VS": "VIRGIN ATLANTIC", "AA": "AMERICAN AIRLINES", "AF": "AIR FRANCE",
    "LH": "LUFTHANSA", "IB": "IBERIA", "KL": "KLM ROYAL DUTCH AIRLINES", "DL": "DELTA AIR LINES",
    "UA": "UNITED AIRLINES", "U2": "EASYJET", "FR": "RYANAIR", "EK": "EMIRATES",
}  # fmt: skip
_CURRENCIES = {"EUR": "EURO", "GBP": "POUND STERLING", "USD": "US DOLLAR", "CHF": "SWISS FRANC"}
_BOOKING_CLASS = {"ECONOMY": "V", "PREMIUM_ECONOMY": "T", "BUSINESS": "J", "FIRST": "F"}
_SEAT_CHARACTERISTICS = {
    "W": "Window seat", "A": "Aisle seat", "9": "Center seat (not window, not aisle)",
    "CH": "Chargeable seats", "E": "Exit row seat", "K": "Bulkhead seat", "L": "Leg space seat",
    "LS": "Left side of aircraft", "RS": "Right side of aircraft", "1A": "Seat not allowed for infant",
}  # fmt: skip


# ---- builders ----------------------------------------------------------------------------------------------
def build_offer(
    id: str,
    origin: str,
    destination: str,
    departure_local: str,
    arrival_local: str,
    carrier: str = "BA",
    number: str = "117",
    aircraft: str = "744",
    cabin: str = "ECONOMY",
    total: str = "546.70",
    currency: str = "EUR",
    adults: int = 1,
    refundable: bool | None = None,
    checked_bags: int = 1,
) -> dict[str, Any]:
    """A one-segment Flight Offers Search v2 offer (`type: flight-offer`) for `adults` adult travellers.

    Why: tests must be able to say "BA117 LHR->JFK at 546.70 EUR" in one line and get every field FlyO reads
    from a real offer. `departure_local`/`arrival_local` are local wall-clock ISO times
    (`2025-03-01T18:30:00`) exactly as Amadeus returns them; the segment duration uses the airports' time
    zones when airportsdata knows both airports, else the naive difference. `total` is the offer total for
    all travellers (as in the API), split evenly over the traveller pricings. `refundable` (when not None)
    appears the way Amadeus exposes it: `pricingOptions.refundableFare` and a "REFUNDABLE TICKET"
    branded-fare amenity per segment whose `isChargeable` is true when a refund costs money.
    """
    if adults < 1:
        raise ValueError("adults must be >= 1")
    duration = _iso_duration(origin, destination, departure_local, arrival_local)
    grand = Decimal(total).quantize(_CENT)
    base = (grand * Decimal("0.8")).quantize(_CENT, ROUND_HALF_UP)
    booking_class = _BOOKING_CLASS.get(cabin, "Y")
    fare_details: JSON = {
        "segmentId": "1",
        "cabin": cabin,
        "fareBasis": f"{booking_class}LOW{carrier}",
        "class": booking_class,
        "includedCheckedBags": {"quantity": checked_bags},
    }
    pricing_options: JSON = {"fareType": ["PUBLISHED"], "includedCheckedBagsOnly": checked_bags > 0}
    if refundable is not None:
        pricing_options["refundableFare"] = refundable
        fare_details["amenities"] = [
            {
                "description": "REFUNDABLE TICKET",
                "isChargeable": not refundable,
                "amenityType": "BRANDED_FARES",
                "amenityProvider": {"name": "BrandedFare"},
            }
        ]
    traveler_pricings = []
    for index, (share, base_share) in enumerate(
        zip(_split(grand, adults), _split(base, adults), strict=True)
    ):
        traveler_pricings.append(
            {
                "travelerId": str(index + 1),
                "fareOption": "STANDARD",
                "travelerType": "ADULT",
                "price": {"currency": currency, "total": str(share), "base": str(base_share)},
                "fareDetailsBySegment": [copy.deepcopy(fare_details)],
            }
        )
    return {
        "type": "flight-offer",
        "id": id,
        "source": "GDS",
        "instantTicketingRequired": False,
        "nonHomogeneous": False,
        "oneWay": False,
        "lastTicketingDate": departure_local[:10],
        "numberOfBookableSeats": 9,
        "itineraries": [
            {
                "duration": duration,
                "segments": [
                    {
                        "departure": {"iataCode": origin, "terminal": "1", "at": departure_local},
                        "arrival": {"iataCode": destination, "terminal": "1", "at": arrival_local},
                        "carrierCode": carrier,
                        "number": number,
                        "aircraft": {"code": aircraft},
                        "operating": {"carrierCode": carrier},
                        "duration": duration,
                        "id": "1",
                        "numberOfStops": 0,
                        "blacklistedInEU": False,
                    }
                ],
            }
        ],
        "price": {
            "currency": currency,
            "total": str(grand),
            "base": str(base),
            "fees": [{"amount": "0.00", "type": "SUPPLIER"}, {"amount": "0.00", "type": "TICKETING"}],
            "grandTotal": str(grand),
        },
        "pricingOptions": pricing_options,
        "validatingAirlineCodes": [carrier],
        "travelerPricings": traveler_pricings,
    }


def build_seatmap(
    offer: dict[str, Any],
    rows: Iterable[int] = range(1, 31),
    columns: str = "ABCDEF",
    aisle_after: str = "C",
    occupied: Collection[str] = frozenset(),
    *,
    blocked: Collection[str] = frozenset(),
) -> dict[str, Any]:
    """A SeatMap Display v1 response body (`{"meta", "data": [...], "dictionaries"}`) for `offer`.

    Why: seat selection needs maps with known free/taken seats. One `seatmap` entry per segment of the offer;
    seats are `AVAILABLE` (priced: first five rows 30.00, others 15.00, offer currency) unless listed in
    `occupied` (`OCCUPIED`) or `blocked` (`BLOCKED`), for every traveller of the offer. `aisle_after` lists
    the columns followed by an aisle ("C" for 3-3, "CG" for 3-4-3). Coordinates follow the API: x = row
    position (front galley at 0), y = column position counting aisles. Note the real API spells
    `deckConfiguration.startseatRow` with a lower-case s (captured responses); the builder does too.
    """
    row_list = list(rows)
    occupied_set = {s.upper() for s in occupied}
    blocked_set = {s.upper() for s in blocked}
    y_of: dict[str, int] = {}
    y = 0
    for col in columns:
        y_of[col] = y
        y += 2 if col in aisle_after else 1
    width = y
    travelers = offer.get("travelerPricings") or [{"travelerId": "1"}]
    currency = str(offer.get("price", {}).get("currency", "EUR"))
    entries: list[JSON] = []
    for itinerary in offer.get("itineraries", []):
        for segment in itinerary.get("segments", []):
            cabin, booking_class = _segment_cabin(offer, str(segment.get("id")))
            seats: list[JSON] = []
            counters = dict.fromkeys((str(t["travelerId"]) for t in travelers), 0)
            for x, row in enumerate(row_list, start=1):
                for col in columns:
                    number = f"{row}{col}"
                    status = "AVAILABLE"
                    if number in occupied_set:
                        status = "OCCUPIED"
                    elif number in blocked_set:
                        status = "BLOCKED"
                    pricing: list[JSON] = []
                    for traveler in travelers:
                        entry: JSON = {
                            "travelerId": str(traveler["travelerId"]),
                            "seatAvailabilityStatus": status,
                        }
                        if status == "AVAILABLE":
                            amount = "30.00" if x <= 5 else "15.00"
                            entry["price"] = {
                                "currency": currency,
                                "total": amount,
                                "base": amount,
                                "taxes": [{"amount": "0.00", "code": "SUPPLIER"}],
                            }
                            counters[entry["travelerId"]] += 1
                        pricing.append(entry)
                    seats.append(
                        {
                            "cabin": cabin,
                            "number": number,
                            "characteristicsCodes": _seat_codes(col, columns, aisle_after, status),
                            "travelerPricing": pricing,
                            "coordinates": {"x": x, "y": y_of[col]},
                        }
                    )
            last_x = len(row_list) + 1
            third = max(1, len(row_list) // 3)
            entries.append(
                {
                    "id": str(len(entries) + 1),
                    "type": "seatmap",
                    "departure": copy.deepcopy(segment.get("departure")),
                    "arrival": copy.deepcopy(segment.get("arrival")),
                    "carrierCode": segment.get("carrierCode"),
                    "number": segment.get("number"),
                    "operating": copy.deepcopy(
                        segment.get("operating", {"carrierCode": segment.get("carrierCode")})
                    ),
                    "aircraft": copy.deepcopy(segment.get("aircraft")),
                    "class": booking_class,
                    "flightOfferId": offer.get("id"),
                    "segmentId": segment.get("id"),
                    "decks": [
                        {
                            "deckType": "MAIN",
                            "deckConfiguration": {
                                "width": width,
                                "length": last_x + 1,
                                "startseatRow": row_list[0] if row_list else 0,
                                "endSeatRow": row_list[-1] if row_list else 0,
                                "startWingsRow": row_list[third] if len(row_list) > third else 0,
                                "endWingsRow": row_list[2 * third] if len(row_list) > 2 * third else 0,
                                "startWingsX": third + 1,
                                "endWingsX": 2 * third + 1,
                                "exitRowsX": [],
                            },
                            "facilities": [
                                {
                                    "code": "LA",
                                    "column": columns[0],
                                    "position": "FRONT",
                                    "coordinates": {"x": 0, "y": 0},
                                },
                                {
                                    "code": "G",
                                    "column": columns[-1],
                                    "position": "FRONT",
                                    "coordinates": {"x": 0, "y": width - 1},
                                },
                                {
                                    "code": "LA",
                                    "column": columns[0],
                                    "position": "REAR",
                                    "coordinates": {"x": last_x, "y": 0},
                                },
                            ],
                            "seats": seats,
                        }
                    ],
                    "aircraftCabinAmenities": {
                        "power": {"isChargeable": False, "powerType": "USB_PORT", "usbType": "USB_C"},
                        "seat": {"legSpace": 29, "spaceUnit": "INCHES", "tilt": "NORMAL"},
                        "wifi": {"isChargeable": True, "wifiCoverage": "FULL"},
                        "food": {"isChargeable": False, "foodType": "SNACK"},
                        "beverage": {"isChargeable": False, "beverageType": "ALCOHOLIC_AND_NON_ALCOHOLIC"},
                    },
                    "availableSeatsCounters": [{"travelerId": t, "value": v} for t, v in counters.items()],
                }
            )
    dictionaries = _dictionaries([offer])
    return {
        "meta": {"count": len(entries)},
        "data": entries,
        "dictionaries": {
            "locations": dictionaries["locations"],
            "facilities": {"LA": "Lavatory", "G": "Galley"},
            "seatCharacteristics": dict(_SEAT_CHARACTERISTICS),
        },
    }


def build_location(
    iata: str,
    name: str,
    city: str,
    country_code: str,
    subtype: str = "AIRPORT",
    *,
    city_code: str | None = None,
    country_name: str | None = None,
    time_zone_offset: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    score: int = 10,
) -> dict[str, Any]:
    """An Airport & City Search v1 `location` (id `A<iata>` for airports, `C<iata>` for cities).

    Why: airport pickers and "did you mean" flows need deterministic lookups in the real response shape.
    `city_code` is the metropolitan code (LHR -> LON); it defaults to the known table, else to `iata`.
    """
    prefix = "C" if subtype == "CITY" else "A"
    location_id = f"{prefix}{iata}"
    upper_name, upper_city = name.upper(), city.upper()
    result: JSON = {
        "type": "location",
        "subType": subtype,
        "name": upper_name,
        "detailedName": f"{upper_city}/{country_code}:{upper_name}",
        "id": location_id,
        "self": {"href": f"{_SELF_BASE}/v1/reference-data/locations/{location_id}", "methods": ["GET"]},
        "timeZoneOffset": time_zone_offset,
        "iataCode": iata,
        "geoCode": {"latitude": latitude, "longitude": longitude},
        "address": {
            "cityName": upper_city,
            "cityCode": city_code or (iata if subtype == "CITY" else _CITY_CODES.get(iata, iata)),
            "countryName": (country_name or "").upper() or None,
            "countryCode": country_code,
        },
        "analytics": {"travelers": {"score": score}},
    }
    if time_zone_offset is None:
        del result["timeZoneOffset"]
    if latitude is None or longitude is None:
        del result["geoCode"]
    if result["address"]["countryName"] is None:
        del result["address"]["countryName"]
    return result


def default_offers(departure: dt.date | None = None) -> list[dict[str, Any]]:
    """Two LHR->JFK offers 30 days out: BA117 (546.70 EUR, refundable) and VS3 (498.20 EUR, no bag).

    Why dates move with "today": FlyO may reject past departures, and canned fixtures from 2021 would be.
    """
    day = (departure or dt.date.today() + dt.timedelta(days=30)).isoformat()
    return [
        build_offer("1", "LHR", "JFK", f"{day}T08:25:00", f"{day}T11:30:00", refundable=True),
        build_offer(
            "2", "LHR", "JFK", f"{day}T11:40:00", f"{day}T14:40:00", carrier="VS", number="3",
            aircraft="789", total="498.20", refundable=False, checked_bags=0,
        ),
    ]  # fmt: skip


def default_locations() -> list[dict[str, Any]]:
    """A handful of cities/airports for Airport & City Search (London, New York, Paris, Munich)."""
    usa = "United States of America"
    rows = [
        # iata, name, city, country, subtype, country name, tz offset, lat, lon, score
        ("LON", "London", "London", "GB", "CITY", "United Kingdom", "+00:00", 51.50853, -0.12574, 100),
        ("LHR", "Heathrow", "London", "GB", "AIRPORT", "United Kingdom", "+00:00", 51.47294, -0.45061, 45),
        ("LGW", "Gatwick", "London", "GB", "AIRPORT", "United Kingdom", "+00:00", 51.15609, -0.17818, 27),
        ("NYC", "New York", "New York", "US", "CITY", usa, "-05:00", 40.71417, -74.00584, 100),
        ("JFK", "John F Kennedy Intl", "New York", "US", "AIRPORT", usa, "-05:00", 40.6398, -73.7789, 56),
        ("PAR", "Paris", "Paris", "FR", "CITY", "France", "+01:00", 48.85341, 2.3488, 100),
        ("CDG", "Charles de Gaulle", "Paris", "FR", "AIRPORT", "France", "+01:00", 49.01278, 2.55, 54),
        (
            "MUC",
            "Munich International",
            "Munich",
            "DE",
            "AIRPORT",
            "Germany",
            "+01:00",
            48.35378,
            11.78609,
            27,
        ),
    ]
    return [
        build_location(
            iata,
            name,
            city,
            country,
            subtype,
            country_name=country_name,
            time_zone_offset=tz,
            latitude=lat,
            longitude=lon,
            score=score,
        )
        for iata, name, city, country, subtype, country_name, tz, lat, lon, score in rows
    ]


# ---- the server -------------------------------------------------------------------------------------------
class _ApiError(Exception):
    """An Amadeus error response (raised by handlers, rendered by the middleware)."""

    def __init__(self, status: int, body: JSON, content_type: str = AMADEUS_JSON) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.content_type = content_type


class FakeAmadeus(RecordingServer):
    """Amadeus Self-Service fake: OAuth token, flight offers search/price, seat maps, airport & city search.

    Served data is plain public state, set it before the call under test:
    `offers` (flight-offer dicts, served as-is up to `max`; no route filtering, so tests stay explicit),
    `dictionaries` (None -> derived from the served offers), `pricing_override` (str: new grandTotal, or a
    dict merged into each priced offer's `price`), `seatmaps` (None -> built from the posted offers; a list of
    seatmap entries or a whole response body), `locations`.

    `fail_next(...)` (body None -> an Amadeus-shaped error for the status) skips the token endpoint unless
    `path` targets it: the SDK fetches tokens implicitly, and "the next search fails" should mean the search,
    not whichever request happens to come first.
    """

    def __init__(self, client_id: str = "flyo-test-client", client_secret: str = "flyo-test-secret") -> None:
        """Point the SDK here with `amadeus.Client(..., host="127.0.0.1", port=fake.port, ssl=False)`."""
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.offers: list[dict[str, Any]] = default_offers()
        self.dictionaries: dict[str, Any] | None = None
        self.pricing_override: str | dict[str, Any] | None = None
        self.seatmaps: list[dict[str, Any]] | dict[str, Any] | None = None
        self.locations: list[dict[str, Any]] = default_locations()
        self.tokens: set[str] = set()
        self.orders: dict[str, JSON] = {}  # flight orders by id (created, not yet deleted)
        self.deleted_orders: list[str] = []
        self._malformed = 0

    # ---- test API ------------------------------------------------------------------------------------------
    def malformed_next(self, times: int = 1) -> None:
        """Make the next API response(s) a truncated JSON body with status 200 (SDK raises ParserError)."""
        self._malformed += times

    def revoke_tokens(self) -> None:
        """Forget every issued token, as when one expires: the next API call gets 401 code 38190."""
        self.tokens.clear()

    @property
    def token_requests(self) -> int:
        """How many token requests arrived (the SDK should cache its token for ~30 minutes)."""
        return sum(1 for r in self.requests if r.path == TOKEN_PATH)

    def order_posts(self) -> list[RecordedRequest]:
        """Flight Create Orders requests that reached the fake (injected faults included)."""
        return [r for r in self.requests if r.method == "POST" and r.path == ORDERS_PATH]

    def order_deletes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "DELETE" and r.path.startswith(ORDERS_PATH + "/")]

    # ---- after record -> fault (base class): malformed -> auth -> delay -> handler --------------------------
    def _parse_body(self, request: web.Request, raw: bytes) -> Any:
        """The token request's form as a dict; JSON (or None) elsewhere."""
        if raw and request.path == TOKEN_PATH:
            return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        return super()._parse_body(request, raw)

    def _fault_matches(self, fault: Fault, path: str) -> bool:
        return path.startswith(fault.path) if fault.path is not None else path != TOKEN_PATH

    def _default_fault_body(self, status: int) -> JSON:
        return _default_fault_body(status)

    def _response_headers(self, request: web.Request) -> dict[str, str]:
        return {"Content-Type": "application/json" if request.path == TOKEN_PATH else AMADEUS_JSON}

    async def _serve(self, request: web.Request, handler: Handler, recorded: RecordedRequest) -> web.StreamResponse:
        is_token = request.path == TOKEN_PATH
        if not is_token and self._malformed > 0:
            self._malformed -= 1
            return web.Response(status=200, body=MALFORMED_BODY, content_type=AMADEUS_JSON)
        if not is_token and not self._authorized(request.headers.get("Authorization")):
            return _response(401, INVALID_TOKEN_BODY)
        try:
            return await super()._serve(request, handler, recorded)
        except _ApiError as error:
            return _response(error.status, error.body, error.content_type)

    def _authorized(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() in self.tokens

    # ---- endpoints -----------------------------------------------------------------------------------------
    async def _unknown(self, request: web.Request) -> web.Response:
        raise _ApiError(
            404,
            {
                "errors": [
                    {
                        "code": 38196,
                        "title": "Resource not found",
                        "detail": "The targeted resource doesn't exist",
                        "status": 404,
                    }
                ]
            },
        )

    @route("POST", TOKEN_PATH)
    async def _token(self, request: web.Request) -> web.Response:
        form = dict(parse_qsl((await request.read()).decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("grant_type") != "client_credentials":
            raise _ApiError(400, UNSUPPORTED_GRANT_BODY, "application/json")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            raise _ApiError(401, INVALID_CLIENT_BODY, "application/json")
        token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(28))
        self.tokens.add(token)
        body = {
            "type": "amadeusOAuth2Token",
            "username": "flyo-tests@example.com",
            "application_name": "FlyO tests",
            "client_id": self.client_id,
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": 1799,
            "state": "approved",
            "scope": "",
        }
        return _response(200, body, "application/json")

    @route("GET", "/v2/shopping/flight-offers")
    async def _search_get(self, request: web.Request) -> web.Response:
        query = request.query
        for name in ("originLocationCode", "destinationLocationCode", "departureDate", "adults"):
            if not query.get(name):
                raise _missing(parameter=name)
        for name in ("originLocationCode", "destinationLocationCode"):
            if not re.fullmatch(r"[A-Z]{3}", query[name]):
                raise _invalid_format(query[name], parameter=name, example="CDG")
        for name in ("departureDate", "returnDate"):
            if name in query and not _is_date(query[name]):
                raise _invalid_format(query[name], parameter=name, example="2025-11-01")
        if not query["adults"].isdigit() or not 1 <= int(query["adults"]) <= 9:
            raise _invalid_format(query["adults"], parameter="adults", example="1")
        offers = self._limited(query.get("max"))
        meta = {"count": len(offers), "links": {"self": f"{_SELF_BASE}{request.path_qs}"}}
        return _response(200, {"meta": meta, "data": offers, "dictionaries": self._dicts(offers)})

    @route("POST", "/v2/shopping/flight-offers")
    async def _search_post(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not body.get("originDestinations"):
            raise _missing(pointer="/originDestinations")
        if not body.get("travelers"):
            raise _missing(pointer="/travelers")
        criteria = body.get("searchCriteria")
        limit = criteria.get("maxFlightOffers") if isinstance(criteria, dict) else None
        offers = self._limited(limit)
        return _response(
            200, {"meta": {"count": len(offers)}, "data": offers, "dictionaries": self._dicts(offers)}
        )

    @route("POST", "/v1/shopping/flight-offers/pricing")
    async def _pricing(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        data = body.get("data")
        offers = data.get("flightOffers") if isinstance(data, dict) else None
        if not isinstance(offers, list) or not offers:
            raise _missing(pointer="/data/flightOffers")
        priced = [self._price(offer) for offer in offers if isinstance(offer, dict)]
        dictionaries = {"locations": _dictionaries(priced)["locations"]}
        return _response(
            200,
            {"data": {"type": "flight-offers-pricing", "flightOffers": priced}, "dictionaries": dictionaries},
        )

    @route("GET", "/v1/shopping/seatmaps")
    async def _seatmaps_get(self, request: web.Request) -> web.Response:
        if not request.query.get("flight-orderId"):
            raise _missing(parameter="flight-orderId")
        return self._seatmap_response(self.offers[:1])

    @route("POST", "/v1/shopping/seatmaps")
    async def _seatmaps_post(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        offers = body.get("data")
        if not isinstance(offers, list) or not offers:
            raise _missing(pointer="/data")
        return self._seatmap_response([o for o in offers if isinstance(o, dict)])

    @route("POST", ORDERS_PATH)
    async def _create_order(self, request: web.Request) -> web.Response:
        """Flight Create Orders: validated like the real API (data.type, flightOffers, travelers), 201 with
        the published example's shape (a fresh order id and PNR per order)."""
        body = await _json_body(request)
        data = body.get("data")
        if not isinstance(data, dict):
            raise _missing(pointer="/data")
        if data.get("type") != "flight-order":
            raise _invalid_data("/data/type", "type must be flight-order")
        offers = data.get("flightOffers")
        if not isinstance(offers, list) or not offers or not all(isinstance(o, dict) for o in offers):
            raise _missing(pointer="/data/flightOffers")
        if len(offers) > MAX_ORDER_OFFERS:  # FlightOrderCreateQuery.flightOffers: minItems 1, maxItems 6
            raise _invalid_data("/data/flightOffers", f"at most {MAX_ORDER_OFFERS} flight offers")
        travelers = data.get("travelers")
        if not isinstance(travelers, list) or not travelers:
            raise _missing(pointer="/data/travelers")
        if len(travelers) > 18:  # maxItems 18
            raise _invalid_data("/data/travelers", "at most 18 travelers")
        for index, traveler in enumerate(travelers):
            problem = _traveler_problem(traveler)
            if problem is not None:
                raise _missing(pointer=f"/data/travelers[{index}]/{problem}")
        traveler_ids = [str(t["id"]) for t in travelers]
        if len(set(traveler_ids)) != len(traveler_ids):
            raise _invalid_data("/data/travelers", "traveler ids must be unique")
        seen: set[str] = set()
        for index, offer in enumerate(offers):
            refused = _offer_problem(offer, traveler_ids, seen)
            if refused is not None:
                pointer, detail = refused
                raise _invalid_data(f"/data/flightOffers[{index}]{pointer}", detail)
            seen.add(str(offer["id"]))
        order = _order_template()
        order_id = "eJzTd9f3" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
        pnr = _pnr()
        order["id"] = order_id
        # One record locator for the whole order, one associated record per flight offer (by its id) — except
        # a `nonHomogeneous` offer, which "is expected to yield multiple records" (spec): its own locator.
        template = (order.get("associatedRecords") or [{}])[0]
        order["associatedRecords"] = [
            {**template, "reference": _pnr() if o.get("nonHomogeneous") and i else pnr, "flightOfferId": str(o["id"])}
            for i, o in enumerate(offers)]
        order["flightOffers"] = copy.deepcopy(offers)
        order["travelers"] = copy.deepcopy(travelers)
        self.orders[order_id] = order
        meta = {"count": 1, "links": {"self": f"{_SELF_BASE}{ORDERS_PATH}/{order_id}"}}
        return _response(201, {"meta": meta, "data": order, "dictionaries": _dictionaries(offers)})

    @route("GET", ORDERS_PATH + "/{id}")
    async def _get_order(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["id"])
        if order is None:
            return await self._unknown(request)
        return _response(200, {"data": order})

    @route("DELETE", ORDERS_PATH + "/{id}")
    async def _delete_order(self, request: web.Request) -> web.Response:
        order_id = request.match_info["id"]
        if self.orders.pop(order_id, None) is None:
            return await self._unknown(request)
        self.deleted_orders.append(order_id)
        return web.Response(status=204)

    @route("GET", "/v1/reference-data/locations")
    async def _locations(self, request: web.Request) -> web.Response:
        query = request.query
        for name in ("subType", "keyword"):
            if not query.get(name):
                raise _missing(parameter=name)
        subtypes = {s.strip().upper() for s in query["subType"].split(",")}
        if not subtypes <= {"AIRPORT", "CITY"}:
            raise _invalid_format(query["subType"], parameter="subType", example="AIRPORT,CITY")
        keyword = query["keyword"].upper()
        found = [
            loc
            for loc in self.locations
            if loc.get("subType") in subtypes and _location_matches(loc, keyword)
        ]
        found.sort(key=lambda loc: -int(loc.get("analytics", {}).get("travelers", {}).get("score", 0)))
        limit = int(query.get("page[limit]", "10"))
        offset = int(query.get("page[offset]", "0"))
        page = found[offset : offset + limit]
        meta = {"count": len(found), "links": {"self": f"{_SELF_BASE}{request.path_qs}"}}
        return _response(200, {"meta": meta, "data": page})

    @route("GET", "/v1/reference-data/locations/{id}")
    async def _location(self, request: web.Request) -> web.Response:
        location_id = request.match_info["id"]
        for loc in self.locations:
            if loc.get("id") == location_id:
                meta = {"links": {"self": f"{_SELF_BASE}/v1/reference-data/locations/{location_id}"}}
                return _response(200, {"meta": meta, "data": loc})
        return await self._unknown(request)

    # ---- internals -----------------------------------------------------------------------------------------
    def _limited(self, limit: object) -> list[JSON]:
        offers = copy.deepcopy(self.offers)
        if limit is not None and str(limit).isdigit():
            offers = offers[: int(str(limit))]
        return offers

    def _dicts(self, offers: list[JSON]) -> JSON:
        return copy.deepcopy(self.dictionaries) if self.dictionaries is not None else _dictionaries(offers)

    def _price(self, offer: JSON) -> JSON:
        priced = copy.deepcopy(offer)
        price = priced.setdefault("price", {})
        price.setdefault("billingCurrency", price.get("currency"))
        priced["paymentCardRequired"] = False
        override = self.pricing_override
        if isinstance(override, dict):
            price.update(copy.deepcopy(override))
        elif override is not None:
            new_total = Decimal(override).quantize(_CENT)
            price["total"] = price["grandTotal"] = str(new_total)
            travelers = priced.get("travelerPricings") or []
            for traveler, share in zip(travelers, _split(new_total, max(1, len(travelers))), strict=False):
                traveler.setdefault("price", {})["total"] = str(share)
        return priced

    def _seatmap_response(self, offers: list[JSON]) -> web.Response:
        if isinstance(self.seatmaps, dict):
            return _response(200, self.seatmaps)
        if self.seatmaps is not None:
            return _response(200, {"meta": {"count": len(self.seatmaps)}, "data": self.seatmaps})
        data: list[JSON] = []
        dictionaries: JSON = {}
        for offer in offers:
            built = build_seatmap(offer)
            for entry in built["data"]:
                entry["id"] = str(len(data) + 1)
                data.append(entry)
            for key, value in built["dictionaries"].items():
                dictionaries.setdefault(key, {}).update(value)
        return _response(200, {"meta": {"count": len(data)}, "data": data, "dictionaries": dictionaries})


# ---- module internals --------------------------------------------------------------------------------------
def _response(status: int, body: object, content_type: str = AMADEUS_JSON) -> web.Response:
    # content_type without charset on purpose: the SDK compares the whole header value.
    return web.Response(status=status, body=json.dumps(body).encode(), content_type=content_type)


async def _json_body(request: web.Request) -> JSON:
    try:
        body = json.loads(await request.read())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _ApiError(
            400,
            {
                "errors": [
                    {"status": 400, "code": 477, "title": "INVALID FORMAT", "detail": "Invalid JSON body"}
                ]
            },
        )
    return body


def _missing(*, parameter: str | None = None, pointer: str | None = None) -> _ApiError:
    source = {"parameter": parameter} if parameter is not None else {"pointer": pointer}
    error = {
        "status": 400,
        "code": 32171,
        "title": "MANDATORY DATA MISSING",
        "detail": "This field must be filled.",
        "source": source,
    }
    return _ApiError(400, {"errors": [error]})


def _invalid_data(pointer: str, detail: str) -> _ApiError:
    error = {"status": 400, "code": 4926, "title": "INVALID DATA RECEIVED", "detail": detail,
             "source": {"pointer": pointer}}
    return _ApiError(400, {"errors": [error]})


def _traveler_problem(traveler: object) -> str | None:
    """The first missing mandatory traveler field (as a pointer tail), or None."""
    if not isinstance(traveler, dict):
        return "id"
    if not traveler.get("id"):
        return "id"
    name = traveler.get("name")
    if not isinstance(name, dict) or not name.get("firstName"):
        return "name/firstName"
    if not name.get("lastName"):
        return "name/lastName"
    if not isinstance(traveler.get("dateOfBirth"), str) or not _is_date(traveler["dateOfBirth"]):
        return "dateOfBirth"
    return None


def _pnr() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6))


def _offer_problem(offer: JSON, traveler_ids: list[str], seen: set[str]) -> tuple[str, str] | None:
    """What the real API refuses in one of several flight offers: `type` and `id` are required (FlightOffer
    schema), ids must tell the offers apart (the answer's `associatedRecords[].flightOfferId` names them), and
    each traveller pricing must name a traveller of the request (`travelerPricings[].travelerId`), every
    traveller priced."""
    if offer.get("type") != "flight-offer":
        return "/type", "type must be flight-offer"
    if not offer.get("id"):
        return "/id", "This field must be filled."
    if str(offer["id"]) in seen:
        return "/id", "flight offer ids must be unique in an order"
    pricings = offer.get("travelerPricings")
    if not isinstance(pricings, list) or not pricings:
        return "/travelerPricings", "This field must be filled."
    priced = [str(p.get("travelerId")) for p in pricings if isinstance(p, dict)]
    if sorted(priced) != sorted(traveler_ids):
        return "/travelerPricings", f"travelerPricings {priced} do not match the travelers {traveler_ids}"
    return None


def _order_template() -> JSON:
    """The published Flight Create Orders example's `data` when ../shared/fixtures is present, else the same
    shape built here."""
    if _ORDER_EXAMPLE.exists():
        published: JSON = json.loads(_ORDER_EXAMPLE.read_text())["data"]
        return published
    return {
        "type": "flight-order",
        "id": "",
        "queuingOfficeId": "NCE1A0950",
        "associatedRecords": [
            {"reference": "", "creationDateTime": "2018-07-13T20:17:00", "originSystemCode": "1A",
             "flightOfferId": "1"}
        ],
        "travelers": [],
        "flightOffers": [],
        "ticketingAgreement": {"option": "DELAY_TO_CANCEL", "delay": "6D"},
    }


def _invalid_format(value: str, *, parameter: str, example: str) -> _ApiError:
    error = {
        "status": 400,
        "code": 477,
        "title": "INVALID FORMAT",
        "detail": "invalid query parameter format",
        "source": {"parameter": parameter, "example": example},
    }
    return _ApiError(400, {"errors": [error]})


def _default_fault_body(status: int) -> JSON:
    if status == 401:
        return INVALID_TOKEN_BODY
    if status == 404:
        return {
            "errors": [
                {
                    "code": 38196,
                    "title": "Resource not found",
                    "detail": "The targeted resource doesn't exist",
                    "status": 404,
                }
            ]
        }
    if status == 429:
        return {
            "errors": [
                {
                    "code": 38194,
                    "title": "Too many requests",
                    "detail": "The network rate limit is exceeded, please try again later",
                    "status": 429,
                }
            ]
        }
    if status >= 500:
        return {
            "errors": [
                {
                    "code": 38189,
                    "title": "Internal error",
                    "detail": "An internal error occured, please contact your administrator",
                    "status": status,
                }
            ]
        }
    return {
        "errors": [{"status": status, "code": 477, "title": "INVALID FORMAT", "detail": "Injected error"}]
    }


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _split(amount: Decimal, parts: int) -> list[Decimal]:
    """Split money into `parts` shares that add up exactly (the last share takes the rounding)."""
    share = (amount / parts).quantize(_CENT, ROUND_HALF_UP)
    return [share] * (parts - 1) + [amount - share * (parts - 1)]


def _segment_cabin(offer: JSON, segment_id: str) -> tuple[str, str]:
    for traveler in offer.get("travelerPricings") or []:
        for detail in traveler.get("fareDetailsBySegment") or []:
            if str(detail.get("segmentId")) == segment_id:
                return str(detail.get("cabin", "ECONOMY")), str(detail.get("class", "Y"))
    return "ECONOMY", "Y"


def _seat_codes(col: str, columns: str, aisle_after: str, status: str) -> list[str]:
    index = columns.index(col)
    codes: list[str] = []
    if index in (0, len(columns) - 1):
        codes.append("W")
    previous = columns[index - 1] if index > 0 else ""
    if col in aisle_after or (previous and previous in aisle_after):
        codes.append("A")
    if not codes:
        codes.append("9")
    codes.append("LS" if index < len(columns) / 2 else "RS")
    if status == "AVAILABLE":
        codes.append("CH")
    return codes


def _location_matches(loc: JSON, keyword: str) -> bool:
    if str(loc.get("iataCode", "")).upper().startswith(keyword):
        return True
    texts = [
        str(loc.get("name", "")),
        str(loc.get("detailedName", "")),
        str(loc.get("address", {}).get("cityName", "")),
    ]
    return any(word.startswith(keyword) for text in texts for word in re.split(r"[\s/:,-]+", text.upper()))


@lru_cache(maxsize=1)
def _airports() -> dict[str, Any]:
    """airportsdata's IATA table when installed (it is a FlyO dependency); empty otherwise."""
    try:
        import airportsdata  # optional, loaded once on first use
    except ImportError:
        return {}
    table: dict[str, Any] = airportsdata.load("IATA")
    return table


def _iso_duration(origin: str, destination: str, departure_local: str, arrival_local: str) -> str:
    start = dt.datetime.fromisoformat(departure_local)
    end = dt.datetime.fromisoformat(arrival_local)
    airports = _airports()
    if origin in airports and destination in airports:
        try:
            from zoneinfo import ZoneInfo  # only needed when time zones are known

            start = start.replace(tzinfo=ZoneInfo(airports[origin]["tz"]))
            end = end.replace(tzinfo=ZoneInfo(airports[destination]["tz"]))
        except (KeyError, ValueError, OSError):
            start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    minutes = int((end - start).total_seconds() // 60)
    if minutes <= 0:
        raise ValueError(
            f"arrival {arrival_local} is not after departure {departure_local} ({origin}->{destination})"
        )
    hours, mins = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")


def _dictionaries(offers: list[JSON]) -> JSON:
    """Rebuild the `dictionaries` block sent with offers (locations, aircraft, currencies, carriers)."""
    airports = _airports()
    locations: JSON = {}
    aircraft: JSON = {}
    carriers: JSON = {}
    currencies: JSON = {}
    for offer in offers:
        currency = offer.get("price", {}).get("currency")
        if currency:
            currencies[currency] = _CURRENCIES.get(currency, currency)
        for itinerary in offer.get("itineraries", []):
            for segment in itinerary.get("segments", []):
                for end in ("departure", "arrival"):
                    code = segment.get(end, {}).get("iataCode")
                    if code:
                        country = airports.get(code, {}).get("country", "ZZ")
                        locations[code] = {"cityCode": _CITY_CODES.get(code, code), "countryCode": country}
                plane = segment.get("aircraft", {}).get("code")
                if plane:
                    aircraft[plane] = _AIRCRAFT.get(plane, plane)
                for carrier in (segment.get("carrierCode"), segment.get("operating", {}).get("carrierCode")):
                    if carrier:
                        carriers[carrier] = _CARRIERS.get(carrier, carrier)
    return {"locations": locations, "aircraft": aircraft, "currencies": currencies, "carriers": carriers}
