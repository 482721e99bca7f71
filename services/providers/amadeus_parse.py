"""Amadeus Self-Service JSON → FlyO values. Pure functions (no I/O), so published payloads test them directly.

Shapes: Flight Offers Search v2 / Flight Offers Price v1 (`flight-offer`), SeatMap Display v1 (`seatmap`),
Airport & City Search v1 (`location`). Amadeus gives local wall-clock times without an offset; the airports'
IANA zones (airportsdata, the same table the local network is built from) turn them into UTC.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import airportsdata

from models.aircraft import CabinLayout
from models.airport import Airport
from services.money import minor_units_exponent
from services.providers.base import Quote, SeatMap

log = logging.getLogger(__name__)

JSON = dict[str, Any]

CABINS = {"ECONOMY": "economy", "PREMIUM_ECONOMY": "premium", "BUSINESS": "business", "FIRST": "first"}
_SEAT = re.compile(r"(\d+)\s*([A-Z])")


class OfferFormatError(ValueError):
    """A payload lacks something FlyO needs (an unknown airport, no price); the offer is skipped."""


@dataclass(frozen=True)
class ParsedOffer:
    """One Amadeus offer as a FlyO flight: the outbound itinerary, per-passenger fare in minor units."""

    offer_id: str
    flight_number: str  # carrier + number, "BA117"; "PR212/PR732" for a connection
    origin: str
    destination: str
    departure_date: str  # the origin's local date, as Amadeus wrote it
    departs_at: datetime  # UTC
    arrives_at: datetime  # UTC
    aircraft: str
    cabin: str
    currency: str
    per_passenger: int
    seats: int  # numberOfBookableSeats
    refundable: bool | None
    checked_bags: int | None
    stops: int
    offer: JSON


@lru_cache(maxsize=1)
def _airport_table() -> dict[str, dict[str, Any]]:
    table: Any = airportsdata.load("IATA")
    return dict(table)


def airport_tz(code: str) -> str | None:
    row = _airport_table().get(code.upper())
    return str(row["tz"]) if row and row.get("tz") else None


def to_minor(amount: object, currency: str) -> int:
    """"546.70" EUR → 54670, using the same exponents services.money renders with."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise OfferFormatError(f"amount {amount!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise OfferFormatError(f"amount {amount!r} is not a price")
    return int(value.scaleb(minor_units_exponent(currency)).quantize(Decimal(1), ROUND_HALF_UP))


def local_to_utc(local: str, code: str) -> datetime:
    tz = airport_tz(code)
    if tz is None:
        raise OfferFormatError(f"no time zone known for airport {code}")
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def per_passenger(offer: JSON) -> tuple[int, str]:
    """Fare per passenger and currency: the dearest adult traveller's total.

    Why not grandTotal / travellers: offers mix adults and children (published examples do), and FlyO books
    adults only; the dearest adult share also never undercharges when Amadeus rounds the split.
    """
    price = offer.get("price") or {}
    currency = str(price.get("currency") or "")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise OfferFormatError(f"offer {offer.get('id')} has no currency")
    travellers = [t for t in offer.get("travelerPricings") or [] if isinstance(t, dict)]
    adults = [t for t in travellers
              if t.get("travelerType", "ADULT") == "ADULT" and (t.get("price") or {}).get("total")]
    if adults:
        return max(to_minor(t["price"]["total"], currency) for t in adults), currency
    total = price.get("grandTotal") or price.get("total")
    if total is None:
        raise OfferFormatError(f"offer {offer.get('id')} has no price")
    return -(-to_minor(total, currency) // max(1, len(travellers))), currency


def _fare_details(offer: JSON) -> list[JSON]:
    travellers = offer.get("travelerPricings") or [{}]
    details: list[JSON] = travellers[0].get("fareDetailsBySegment") or []
    return details


def refundable(offer: JSON) -> bool | None:
    """`pricingOptions.refundableFare` when present, else the "REFUNDABLE TICKET" branded-fare amenity."""
    flag = (offer.get("pricingOptions") or {}).get("refundableFare")
    if isinstance(flag, bool):
        return flag
    for detail in _fare_details(offer):
        for amenity in detail.get("amenities") or []:
            if "REFUND" in str(amenity.get("description", "")).upper():
                return not bool(amenity.get("isChargeable"))
    return None


def checked_bags(offer: JSON) -> int | None:
    """Pieces of checked baggage; a weight allowance ("25 KG") counts as one piece, none given → unknown."""
    details = _fare_details(offer)
    bags = details[0].get("includedCheckedBags") if details else None
    if not isinstance(bags, dict):
        return None
    if "quantity" in bags:
        return int(bags["quantity"])
    return 1 if bags.get("weight") else 0


def parse_offer(offer: JSON) -> ParsedOffer:
    itineraries = offer.get("itineraries") or []
    segments: list[JSON] = (itineraries[0].get("segments") or []) if itineraries else []
    if not segments:
        raise OfferFormatError(f"offer {offer.get('id')} has no segments")
    first, last = segments[0], segments[-1]
    origin, destination = str(first["departure"]["iataCode"]), str(last["arrival"]["iataCode"])
    departure_local = str(first["departure"]["at"])
    fare, currency = per_passenger(offer)
    details = _fare_details(offer)
    cabin = CABINS.get(str(details[0].get("cabin", "ECONOMY")) if details else "ECONOMY", "economy")
    return ParsedOffer(
        offer_id=str(offer.get("id", "")),
        flight_number="/".join(f"{s['carrierCode']}{s['number']}" for s in segments),
        origin=origin,
        destination=destination,
        departure_date=departure_local[:10],
        departs_at=local_to_utc(departure_local, origin),
        arrives_at=local_to_utc(str(last["arrival"]["at"]), destination),
        aircraft=str((first.get("aircraft") or {}).get("code", "")),
        cabin=cabin,
        currency=currency,
        per_passenger=fare,
        seats=int(offer.get("numberOfBookableSeats") or 9),
        refundable=refundable(offer),
        checked_bags=checked_bags(offer),
        stops=len(segments) - 1,
        offer=offer,
    )


def parse_search(body: JSON) -> list[ParsedOffer]:
    """Every offer FlyO can show; one odd offer is logged and skipped, not the whole answer."""
    parsed: list[ParsedOffer] = []
    offers = body.get("data")
    if not isinstance(offers, list):
        raise OfferFormatError("search answer has no offer list")
    for offer in offers:
        if not isinstance(offer, dict):
            continue
        try:
            parsed.append(parse_offer(offer))
        except (OfferFormatError, KeyError, TypeError, ValueError) as exc:
            log.warning("skipping Amadeus offer %s: %r", offer.get("id"), exc)
    return parsed


def parse_price(body: JSON) -> Quote:
    data = body.get("data") or {}
    offers = data.get("flightOffers") if isinstance(data, dict) else None
    if not offers or not isinstance(offers[0], dict):
        raise OfferFormatError("pricing answer has no flight offer")
    fare, currency = per_passenger(offers[0])
    return Quote(per_passenger=fare, currency=currency, offer=offers[0])


def _seat_free(seat: JSON) -> bool:
    statuses = [p.get("seatAvailabilityStatus") for p in seat.get("travelerPricing") or []]
    return "AVAILABLE" in statuses


def _columns(letters: dict[str, list[int]], aisle_seats: set[str]) -> str:
    """Letters ordered across the cabin, a space for each aisle (a gap in the y coordinate)."""
    ys = {letter: Counter(values).most_common(1)[0][0] for letter, values in letters.items() if values}
    if len(ys) == len(letters):
        ordered = sorted(letters, key=lambda letter: (ys[letter], letter))
        gaps = [ys[b] - ys[a] > 1 for a, b in itertools.pairwise(ordered)]
    else:  # no coordinates: two aisle seats side by side have the aisle between them
        ordered = sorted(letters)
        gaps = [a in aisle_seats and b in aisle_seats for a, b in itertools.pairwise(ordered)]
    out = ordered[0] if ordered else ""
    for gap, letter in zip(gaps, ordered[1:], strict=False):
        out += (" " if gap else "") + letter
    return out


def _wing_rows(config: object) -> set[int]:
    """The rows over the wing, from a deck's `deckConfiguration` (startWingsRow..endWingsRow); none if unsaid."""
    if not isinstance(config, dict):
        return set()
    first, last = config.get("startWingsRow"), config.get("endWingsRow")
    if not isinstance(first, int) or not isinstance(last, int) or not 0 < first <= last < 200:
        return set()
    return set(range(first, last + 1))


def parse_seatmap(body: JSON, cabin: str) -> SeatMap | None:
    """The first segment's map, reduced to `cabin`: rows, columns with aisles, and the seats not on sale.

    Rows missing inside the range (no row 13) become skip_rows; grid positions the aircraft doesn't have
    (row 1 with D-F only) are listed as unavailable, so they draw as taken and cannot be held.
    """
    entries = body.get("data") or []
    if not entries or not isinstance(entries[0], dict):
        return None
    rows: set[int] = set()
    letters: dict[str, list[int]] = {}
    aisle_seats: set[str] = set()
    present: set[str] = set()
    taken: set[str] = set()
    features: dict[str, set[int]] = {"E": set(), "L": set()}  # characteristics: exit row, extra leg space
    wing_rows: set[int] = set()
    for deck in entries[0].get("decks") or []:
        wing_rows |= _wing_rows(deck.get("deckConfiguration"))
        for seat in deck.get("seats") or []:
            if CABINS.get(str(seat.get("cabin", "")), "") != cabin:
                continue
            match = _SEAT.fullmatch(str(seat.get("number", "")).upper())
            if not match:
                continue
            row, letter = int(match[1]), match[2]
            code = f"{row}{letter}"
            rows.add(row)
            y = (seat.get("coordinates") or {}).get("y")
            letters.setdefault(letter, [])
            if isinstance(y, int):
                letters[letter].append(y)
            codes = seat.get("characteristicsCodes") or []
            if "A" in codes:
                aisle_seats.add(letter)
            for feature, found in features.items():
                if feature in codes:
                    found.add(row)
            present.add(code)
            if not _seat_free(seat):
                taken.add(code)
    if not rows:
        return None
    columns = _columns(letters, aisle_seats)
    layout = CabinLayout(cabin=cabin, first_row=min(rows), last_row=max(rows), columns=columns,
                         skip_rows=[r for r in range(min(rows), max(rows) + 1) if r not in rows],
                         exit_rows=sorted(features["E"]), legroom_rows=sorted(features["L"]),
                         wing_rows=sorted(wing_rows & rows))
    missing = {code for code in layout.seat_codes() if code not in present}
    return SeatMap(layout=layout, unavailable=frozenset(taken | missing), source="amadeus")


def parse_location(location: JSON) -> Airport | None:
    """An AIRPORT location as an Airport (zone and name from airportsdata); cities and unknown codes: None.

    The city is Amadeus's (the city the airport serves, "NEW YORK" for EWR), title-cased, because travellers
    search by that city; `metro` is Amadeus's city code when it differs from the airport's own code.
    """
    if location.get("subType") != "AIRPORT":
        return None
    iata = str(location.get("iataCode", "")).upper()
    row = _airport_table().get(iata)
    if row is None or not row.get("tz"):
        return None
    address = location.get("address") or {}
    city = str(address.get("cityName") or row.get("city") or iata).title()
    city_code = str(address.get("cityCode") or "")
    # model_construct: Beanie refuses to build a Document before init_beanie; every field is typed here.
    airport: Airport = Airport.model_construct(
        iata=iata, icao=str(row.get("icao") or ""), name=str(row.get("name") or location.get("name", iata)),
        city=city, country=str(address.get("countryCode") or row.get("country") or ""), tz=str(row["tz"]),
        lat=float(row.get("lat") or 0.0), lon=float(row.get("lon") or 0.0),
        metro=city_code if city_code and city_code != iata else "",
    )
    return airport


def parse_locations(body: JSON) -> list[Airport]:
    found: dict[str, Airport] = {}
    for location in body.get("data") or []:
        airport = parse_location(location) if isinstance(location, dict) else None
        if airport is not None:
            found.setdefault(airport.iata, airport)
    return list(found.values())
