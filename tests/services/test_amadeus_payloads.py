"""Published Amadeus payloads → FlyO values, through the real `amadeus` SDK against the loopback fake.

The files in ../shared/fixtures/amadeus (the API specs' examples, responses captured from real calls, error
bodies from the developer guides) are served byte-for-byte by the fake (`fail_next(200, body)`), so the SDK
parses exactly what Amadeus publishes. Every test here skips when that folder is absent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.config import parse_api_url
from core.errors import ProviderUnavailable
from services.providers.base import ProviderRejected
from tests.fakes.amadeus import TOKEN_PATH, FakeAmadeus, build_offer, default_offers
from tests.services.amadeus_support import SEARCH_PATH, fake, provider, published

__all__ = ["fake"]  # the fixture, imported for pytest

EXAMPLES = "code-examples"  # responses captured from real calls (the top level holds the specs' examples)


async def test_published_search_offers_parse(fake: FakeAmadeus) -> None:
    fake.fail_next(200, published("flight_offers_search.GET_v2_shopping_flight-offers.200.json"))
    offers = await provider(fake).fetch_offers("SYD", "BKK", date(2021, 11, 1), 1)
    first = offers[0]
    assert [o.offer_id for o in offers] == ["1", "2"]
    assert (first.flight_number, first.stops) == ("PR212/PR732", 1)
    assert (first.origin, first.destination) == ("SYD", "BKK")
    assert first.departure_date == "2021-11-01"
    assert first.departs_at == datetime(2021, 11, 1, 0, 35, tzinfo=UTC)  # 11:35 in Sydney (AEDT, UTC+11)
    assert first.arrives_at == datetime(2021, 11, 1, 14, 50, tzinfo=UTC)  # 21:50 in Bangkok (UTC+7)
    assert (first.per_passenger, first.currency) == (35534, "EUR")
    assert (first.cabin, first.aircraft) == ("economy", "333")
    assert first.checked_bags == 1  # a 25 KG allowance counts as one bag
    assert first.refundable is None and first.seats == 9

    fake.fail_next(200, published("flight_offers_search.POST_v2_shopping_flight-offers.200.json"))
    business = (await provider(fake).fetch_offers("NYC", "MAD", date(2023, 11, 1), 1))[0]
    assert (business.flight_number, business.cabin, business.checked_bags) == ("6X188/6X9931", "business", 8)
    assert (business.per_passenger, business.currency) == (34220, "USD")
    assert business.arrives_at == datetime(2023, 11, 2, 12, 0, tzinfo=UTC)  # 13:00 in Madrid (CET)


async def test_published_code_example_offers_parse(fake: FakeAmadeus) -> None:
    fake.fail_next(200, published(EXAMPLES, "flight_offers_search.GET_v2_shopping_flight-offers.200.json"))
    round_trip = (await provider(fake).fetch_offers("SYD", "BKK", date(2020, 8, 1), 2))[0]
    # Two adults at 795.39 each; FlyO's flight is the outbound itinerary.
    assert (round_trip.flight_number, round_trip.per_passenger, round_trip.stops) == ("TG476", 79539, 0)
    assert round_trip.departs_at == datetime(2020, 8, 1, 0, 0, tzinfo=UTC)  # 10:00 in Sydney (AEST)

    fake.fail_next(200, published(EXAMPLES, "flight_offers_search.POST_v2_shopping_flight-offers.200.json"))
    family = (await provider(fake).fetch_offers("GIG", "MAD", date(2020, 8, 1), 1))[0]
    assert family.per_passenger == 217855  # the adult's share, not grandTotal 3842.10 split with the child
    assert (family.flight_number, family.cabin, family.seats) == ("BA248/BA462", "business", 7)


@pytest.mark.parametrize("name", [
    "flight_offers_price.POST_v1_shopping_flight-offers_pricing.200.json",
    "code-examples/flight_offers_price.POST_v1_shopping_flight-offers_pricing.200.json",
])
async def test_published_price_parses(fake: FakeAmadeus, name: str) -> None:
    body = published(*name.split("/"))
    fake.fail_next(200, body)
    quote = await provider(fake).price_offer(body["data"]["flightOffers"][0])
    assert (quote.per_passenger, quote.currency) == (162549, "USD")  # adult 1625.49 (a child pays 1153.49)
    assert quote.offer is not None and quote.offer["id"] == "1"
    pricing = fake.requests[-1]
    assert pricing.header("X-HTTP-Method-Override") == "GET"
    assert pricing.body["data"]["type"] == "flight-offers-pricing"


async def test_published_seat_maps_parse(fake: FakeAmadeus) -> None:
    offer = build_offer("1", "NCE", "ORY", "2030-08-01T06:45:00", "2030-08-01T08:15:00", carrier="AF",
                        number="6201")
    fake.fail_next(200, published("seatmap_display.GET_POST_v1_shopping_seatmaps.200.json"))
    seat_map = await provider(fake).seat_map_of(offer, "economy")
    assert seat_map is not None
    layout = seat_map.layout
    assert (layout.first_row, layout.last_row, layout.columns) == (1, 32, "ABC DEF")
    assert "1D" in seat_map.unavailable  # BLOCKED for every traveller
    assert {"1A", "1B", "1C"} <= seat_map.unavailable  # row 1 has seats D-F only
    assert layout.seat_codes()[0] == "1A" and len(seat_map.unavailable) < len(layout.seat_codes())
    assert await provider(fake).seat_map_of(offer, "first") is None  # the fake's map has no first class

    fake.fail_next(200, published(EXAMPLES, "seatmap_display.GET_v1_shopping_seatmaps.200.json"))
    lufthansa = await provider(fake).seat_map_of(offer, "economy")
    assert lufthansa is not None
    layout = lufthansa.layout
    assert (layout.first_row, layout.last_row, layout.columns) == (14, 38, "ABC DEF")
    assert "14A" not in lufthansa.unavailable  # AVAILABLE, priced 25.00


async def test_published_locations_parse(fake: FakeAmadeus) -> None:
    fake.fail_next(200, published("airport_city_search.GET_v1_reference-data_locations.200.json"))
    [munich] = await provider(fake).airports("MUC")  # the CITY entry is dropped, the AIRPORT kept
    assert (munich.iata, munich.city, munich.country, munich.tz) == ("MUC", "Munich", "DE", "Europe/Berlin")
    assert munich.metro == ""

    fake.fail_next(200, published(EXAMPLES, "airport_city_search.GET_v1_reference-data_locations.200.json"))
    found = await provider(fake).airports("r")
    assert [(a.iata, a.city, a.tz) for a in found] == [
        ("DCA", "Washington", "America/New_York"), ("HYD", "Hyderabad", "Asia/Kolkata")]


async def test_published_token_is_used(fake: FakeAmadeus) -> None:
    token = published("oauth2_token.POST_v1_security_oauth2_token.200.json")
    fake.tokens.add(token["access_token"])
    fake.fail_next(200, token, path=TOKEN_PATH)
    fake.offers = default_offers(date(2030, 3, 1))
    assert len(await provider(fake).fetch_offers("LHR", "JFK", date(2030, 3, 1), 1)) == 2
    search = next(r for r in fake.requests if r.path == SEARCH_PATH)
    assert search.header("Authorization") == f"Bearer {token['access_token']}"


@pytest.mark.parametrize(("name", "status", "path", "reason", "kind"), [
    ("flight_offers_search.500.json", 500, None, "server error, HTTP 500", ProviderUnavailable),
    ("errors/api.500.internal_error.json", 500, None, "server error, HTTP 500", ProviderUnavailable),
    ("errors/api.401.invalid_access_token.json", 401, None, "credentials refused, HTTP 401",
     ProviderUnavailable),
    ("flight_offers_search.400.json", 400, None, "request refused, HTTP 400", ProviderRejected),
    ("errors/api.400.invalid_format.json", 400, None, "request refused, HTTP 400", ProviderRejected),
    ("errors/api.404.resource_not_found.json", 404, None, "request refused, HTTP 404", ProviderRejected),
    ("oauth2_token.401.error.json", 401, TOKEN_PATH, "credentials refused, HTTP 401", ProviderUnavailable),
    ("errors/oauth2_token.401.invalid_client.json", 401, TOKEN_PATH, "credentials refused, HTTP 401",
     ProviderUnavailable),
    ("errors/oauth2_token.400.unsupported_grant_type.json", 400, TOKEN_PATH, "credentials refused, HTTP 400",
     ProviderUnavailable),
])
async def test_published_errors_translate(fake: FakeAmadeus, name: str, status: int, path: str | None,
                                          reason: str, kind: type[Exception]) -> None:
    # A 401 on an API call is retried once with a fresh token (Amadeus code 38190), so serve it twice.
    times = 2 if status == 401 and path is None else 1
    fake.fail_next(status, published(*name.split("/")), times=times, path=path)
    with pytest.raises(ProviderUnavailable) as raised:
        await provider(fake).fetch_offers("LHR", "JFK", date(2030, 3, 1), 1)
    assert type(raised.value) is kind and str(raised.value) == reason


def test_api_url_gives_host_port_and_ssl() -> None:
    assert parse_api_url("https://test.api.amadeus.com") == ("test.api.amadeus.com", 443, True)
    assert parse_api_url("http://127.0.0.1:8123") == ("127.0.0.1", 8123, False)
    assert parse_api_url("https://gateway.example:8443/") == ("gateway.example", 8443, True)
    with pytest.raises(ValueError, match="without a path"):
        parse_api_url("https://gateway.example/amadeus")
