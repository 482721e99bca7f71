"""Booking from Amadeus offers through the real Application on the fake Bot API and the fake Amadeus."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from models import Airport, Booking, BookingStatus, Flight, SeatHold
from tests.fakes.amadeus import FakeAmadeus, build_location, build_seatmap, default_locations
from tests.flows import (
    continue_from_seats,
    fill_passenger,
    pick_first_fare,
    pick_seats_for_me,
    search_one_line,
    travel_day,
)
from tests.harness import RunningBot, running_bot
from tests.services.amadeus_support import TIMEOUT, amadeus_fake, amadeus_settings

pytestmark = pytest.mark.slow  # end to end through Amadeus and Stripe fakes; `make test` runs them

__all__ = ["amadeus_fake"]  # the fixture, imported for pytest


@pytest.fixture
async def live_bot(inventory_db: Any, telegram: Any, tmp_path: Path,
                   amadeus_fake: FakeAmadeus) -> AsyncIterator[RunningBot]:
    async with running_bot(inventory_db, telegram, tmp_path, **amadeus_settings(amadeus_fake)) as running:
        yield running


async def _to_passengers(t: Any, bot: RunningBot) -> None:
    """Search → first fare (BA117) → pick for me → one passenger; the review (or a price question) follows."""
    await search_one_line(t, "LHR", "JFK", travel_day(bot.clock), 1)
    await pick_first_fare(t)
    await pick_seats_for_me(t)
    await continue_from_seats(t)
    await fill_passenger(t, 0, "Ada Lovelace", "1985-12-10", "ada@example.com")


async def test_live_offer_books_through_seats_and_passengers(live_bot: RunningBot,
                                                             amadeus_fake: FakeAmadeus) -> None:
    ada = live_bot.telegram.traveller(3001, first_name="Ada")
    offer = amadeus_fake.offers[0]
    amadeus_fake.seatmaps = build_seatmap(offer, rows=range(1, 31), occupied={"1A", "1B"}, blocked={"1C"})
    results = await search_one_line(ada, "LHR", "JFK", travel_day(live_bot.clock), 1)
    text = results.plain_text()
    assert "source: live fares" in text and "⚠️" not in text
    assert "BA117" in text and "VS3" in text and "€546.70" in text
    assert "1 checked bag, refundable" in text and "no checked bag, non-refundable" in text

    seat_map = await pick_first_fare(ada)
    labels = seat_map.button_labels()
    assert "BA117 LHR → JFK" in seat_map.plain_text()
    assert "1A" not in labels and "1C" not in labels and "1D" in labels  # occupied and blocked: ✖
    await ada.press("✖")  # a seat the airline reports taken cannot be held
    assert await SeatHold.find({"seat": {"$in": ["1A", "1B", "1C"]}}).count() == 0
    await ada.press("1D")
    await ada.wait_for("All seats picked")
    await continue_from_seats(ada)
    await fill_passenger(ada, 0, "Ada Lovelace", "1985-12-10", "ada@example.com")
    review = await ada.wait_for("Please review your booking")
    assert "BA117" in review.plain_text() and "€546.70 × 1" in review.plain_text()
    await ada.press("Confirm and pay")
    await ada.wait_for("Booking")

    booking = await Booking.find_one(Booking.user_id == 3001)
    assert booking is not None and booking.status == BookingStatus.PENDING
    assert (booking.first_flight.flight_number, booking.first_flight.source) == ("BA117", "amadeus")
    assert booking.segments[0].seats == ["1D"]
    price = booking.price
    assert (price.fare_per_passenger, price.currency, price.total) == (54670, "EUR", 54670)
    flight = await Flight.get(booking.first_flight.flight_id)
    assert flight is not None and flight.source == "amadeus" and flight.external_id == "1"
    holds = await SeatHold.find(SeatHold.booking_id == str(booking.id)).to_list()
    assert [h.seat for h in holds] == ["1D"] and holds[0].flight_id == str(flight.id)
    paths = [r.path for r in amadeus_fake.requests]
    assert "/v1/shopping/seatmaps" in paths and "/v1/shopping/flight-offers/pricing" in paths


async def test_price_change_needs_the_travellers_consent(live_bot: RunningBot,
                                                         amadeus_fake: FakeAmadeus) -> None:
    grace = live_bot.telegram.traveller(3002, first_name="Grace")
    amadeus_fake.pricing_override = "612.30"  # the airline re-prices BA117 between search and review
    await _to_passengers(grace, live_bot)
    question = await grace.wait_for("Price changed")
    assert "€546.70 → €612.30" in question.plain_text()
    assert question.button_labels() == ["✅ Accept new price", "◀ Back to flights"]
    assert await Booking.find_one(Booking.user_id == 3002) is None

    await grace.press("Accept new price")
    review = await grace.wait_for("Please review your booking")
    assert "€612.30 × 1" in review.plain_text()
    await grace.press("Confirm and pay")
    await grace.wait_for("Booking")
    booking = await Booking.find_one(Booking.user_id == 3002)
    assert booking is not None and booking.status == BookingStatus.PENDING
    assert (booking.price.fare_per_passenger, booking.price.total) == (61230, 61230)


async def test_declining_a_price_change_goes_back_to_the_flights(live_bot: RunningBot,
                                                                 amadeus_fake: FakeAmadeus) -> None:
    alan = live_bot.telegram.traveller(3003, first_name="Alan")
    amadeus_fake.pricing_override = "612.30"
    await _to_passengers(alan, live_bot)
    await alan.wait_for("Price changed")
    await alan.press("Back to flights")
    results = await alan.wait_for("source: live fares")
    assert "€612.30" in results.plain_text()  # the list now shows the airline's new fare
    assert await Booking.find_one(Booking.user_id == 3003) is None


async def test_amadeus_error_falls_back_to_labelled_inventory(live_bot: RunningBot,
                                                              amadeus_fake: FakeAmadeus) -> None:
    mary = live_bot.telegram.traveller(3004, first_name="Mary")
    amadeus_fake.fail_next(500)
    started = time.monotonic()
    results = await search_one_line(mary, "LHR", "JFK", travel_day(live_bot.clock), 1)
    assert time.monotonic() - started <= TIMEOUT + 1
    text = results.plain_text()
    assert "source: FlyO inventory" in text
    assert "Live fares unavailable (server error, HTTP 500); showing FlyO inventory." in text
    assert "FO" in text and "BA117" not in text


async def test_slow_amadeus_falls_back_within_the_timeout(live_bot: RunningBot,
                                                          amadeus_fake: FakeAmadeus) -> None:
    hopper = live_bot.telegram.traveller(3005, first_name="Grace")
    amadeus_fake.delay = TIMEOUT + 2
    started = time.monotonic()
    results = await search_one_line(hopper, "LHR", "JFK", travel_day(live_bot.clock), 1)
    assert time.monotonic() - started <= TIMEOUT + 1
    assert "source: FlyO inventory" in results.plain_text()
    assert f"no answer within {TIMEOUT:g} s" in results.plain_text()


async def test_unknown_city_is_found_with_airport_search(live_bot: RunningBot,
                                                          amadeus_fake: FakeAmadeus) -> None:
    nuremberg = build_location("NUE", "Nuremberg Airport", "Nuremberg", "DE")
    amadeus_fake.locations = [*default_locations(), nuremberg]
    ada = live_bot.telegram.traveller(3006, first_name="Ada")
    try:
        await ada.send("/search")
        await ada.wait_for("Where are you flying from")
        await ada.send("Nuremberg")  # not in FlyO's network: Airport & City Search knows it
        asked = await ada.wait_for("Where to?")
        assert "Nuremberg NUE" in asked.plain_text()
        assert live_bot.services.airports.get("NUE") is not None
    finally:
        await Airport.get_pymongo_collection().delete_many({"iata": "NUE"})
