"""Shared by the Amadeus tests: the loopback fake, a provider and a chain pointed at it, published payloads.

AMADEUS_TIMEOUT_SECONDS is 1.0 here so the timeout cases stay quick.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.clock import Clock
from services.flights import FlightSearch
from services.providers.amadeus import AmadeusProvider
from services.seats import SeatService
from tests.conftest import fixture_path
from tests.fakes.amadeus import FakeAmadeus

TIMEOUT = 1.0
SEARCH_PATH = "/v2/shopping/flight-offers"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmadeus]:
    async with FakeAmadeus() as amadeus_fake:
        yield amadeus_fake


@pytest.fixture
async def amadeus_fake() -> AsyncIterator[FakeAmadeus]:
    """The fake offering today's live fares LHR → JFK (BA117 546.70 EUR, VS3 498.20 EUR)."""
    from tests.fakes.amadeus import default_offers
    from tests.flows import travel_day

    async with FakeAmadeus() as amadeus:
        amadeus.offers = default_offers(travel_day(Clock()))
        yield amadeus


def amadeus_settings(fake: FakeAmadeus) -> dict[str, Any]:
    """The settings that point a running FlyO at the fake."""
    return {"AMADEUS_CLIENT_ID": fake.client_id, "AMADEUS_CLIENT_SECRET": fake.client_secret,
            "AMADEUS_API_URL": fake.url, "AMADEUS_TIMEOUT_SECONDS": TIMEOUT}


def provider(fake: FakeAmadeus) -> AmadeusProvider:
    return AmadeusProvider(fake.client_id, fake.client_secret, fake.url, TIMEOUT)


def chain(fake: FakeAmadeus, clock: Clock, **options: Any) -> FlightSearch:
    return FlightSearch(SeatService(clock, 15), [provider(fake)], clock=clock, **options)


def published(*parts: str) -> dict[str, Any]:
    """A file of ../shared/fixtures/amadeus (the test skips when the folder is absent)."""
    body: dict[str, Any] = json.loads(fixture_path("amadeus", *parts).read_text())
    return body


def searches(fake: FakeAmadeus) -> int:
    return sum(1 for r in fake.requests if r.path == SEARCH_PATH)
