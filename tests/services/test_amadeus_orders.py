"""The Amadeus order adapter against the fake: what each kind of failure becomes (retry, refusal, unknown)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import amadeus
import pytest

from core.errors import ProviderUnavailable
from services.airline_orders import OrderOutcomeUnknown, OrderTraveler
from services.providers.amadeus_orders import AmadeusOrders
from services.providers.base import ProviderRejected
from tests.fakes.amadeus import ORDERS_PATH, SELL_FAILURE_BODY, FakeAmadeus, build_offer
from tests.services.amadeus_support import TIMEOUT, fake, provider

__all__ = ["fake"]  # the fixture, imported for pytest

ADA = OrderTraveler("Ada", "Lovelace", date(1985, 12, 10), email="ada@example.com", phone="+447700900123")


async def test_create_returns_the_order_id_and_pnr_and_sends_the_travelers(fake: FakeAmadeus) -> None:
    orders = AmadeusOrders(provider(fake))
    order_id, pnrs = await orders.create_order([fake.offers[0]], [ADA])
    stored = fake.orders[order_id]
    assert pnrs == [stored["associatedRecords"][0]["reference"]] and len(pnrs[0]) == 6
    traveler = fake.order_posts()[0].body["data"]["travelers"][0]
    assert traveler == {"id": "1", "dateOfBirth": "1985-12-10", "name": {"firstName": "ADA", "lastName": "LOVELACE"},
                        "contact": {"emailAddress": "ada@example.com", "phones": [
                            {"deviceType": "MOBILE", "countryCallingCode": "44", "number": "7700900123"}]}}
    await orders.cancel_order(order_id)
    assert fake.orders == {} and fake.deleted_orders == [order_id]
    await orders.cancel_order(order_id)  # already gone (404): nothing left to cancel


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_an_answer_saying_it_could_not_is_retryable(fake: FakeAmadeus, status: int) -> None:
    fake.fail_next(status, path=ORDERS_PATH)
    with pytest.raises(ProviderUnavailable) as caught:
        await AmadeusOrders(provider(fake)).create_order([fake.offers[0]], [ADA])
    assert not isinstance(caught.value, ProviderRejected | OrderOutcomeUnknown)


async def test_a_refusal_is_definitive(fake: FakeAmadeus) -> None:
    fake.fail_next(400, SELL_FAILURE_BODY, path=ORDERS_PATH)
    with pytest.raises(ProviderRejected, match="HTTP 400"):
        await AmadeusOrders(provider(fake)).create_order([fake.offers[0]], [ADA])


async def test_no_answer_is_an_unknown_outcome(fake: FakeAmadeus) -> None:
    fake.fail_next(201, {}, delay=TIMEOUT + 1, path=ORDERS_PATH)
    with pytest.raises(OrderOutcomeUnknown, match="no answer"):
        await AmadeusOrders(provider(fake)).create_order([fake.offers[0]], [ADA])


async def test_a_failing_cancel_raises(fake: FakeAmadeus) -> None:
    orders = AmadeusOrders(provider(fake))
    order_id, _pnr = await orders.create_order([fake.offers[0]], [ADA])
    fake.fail_next(500, path=ORDERS_PATH)
    with pytest.raises(ProviderUnavailable):
        await orders.cancel_order(order_id)
    assert order_id in fake.orders


def _return_offers(adults: int = 1) -> list[dict[str, Any]]:
    """A return trip searched one way each, as FlyO does: two offers, both with id "1"."""
    out, back = date.today() + timedelta(days=30), date.today() + timedelta(days=37)
    return [build_offer("1", "LHR", "JFK", f"{out}T08:25:00", f"{out}T11:30:00", adults=adults),
            build_offer("1", "JFK", "LHR", f"{back}T18:30:00", f"{back + timedelta(days=1)}T06:40:00",
                        number="112", adults=adults)]


async def test_a_return_trip_is_one_order_with_both_offers_and_one_pnr(fake: FakeAmadeus) -> None:
    orders = AmadeusOrders(provider(fake))
    offers = _return_offers()
    order_id, pnrs = await orders.create_order(offers, [ADA])
    posts = fake.order_posts()
    assert len(posts) == 1 and list(fake.orders) == [order_id] and len(pnrs) == 1
    sent = posts[0].body["data"]["flightOffers"]
    assert [o["id"] for o in sent] == ["1", "2"]  # told apart; otherwise as priced
    assert [{**o, "id": "1"} for o in sent] == offers
    records = fake.orders[order_id]["associatedRecords"]
    assert [(r["reference"], r["flightOfferId"]) for r in records] == [(pnrs[0], "1"), (pnrs[0], "2")]


async def test_the_fake_refuses_what_create_orders_refuses(fake: FakeAmadeus) -> None:
    client = provider(fake).client
    ada = [{"id": "1", "dateOfBirth": "1985-12-10", "name": {"firstName": "ADA", "lastName": "LOVELACE"}}]

    async def refused(offers: list[dict[str, Any]], travelers: list[dict[str, Any]]) -> str:
        with pytest.raises(amadeus.ClientError) as caught:
            await asyncio.to_thread(client.booking.flight_orders.post, offers, travelers)
        assert caught.value.response.status_code == 400
        return str(caught.value.response.result["errors"][0]["source"]["pointer"])

    one, two = _return_offers()
    assert await refused([one, two], ada) == "/data/flightOffers[1]/id"  # two offers "1"
    seven = [{**one, "id": str(i)} for i in range(1, 8)]
    assert await refused(seven, ada) == "/data/flightOffers"  # 1 to 6 offers
    for_two = _return_offers(adults=2)[0]
    assert await refused([for_two], ada) == "/data/flightOffers[0]/travelerPricings"  # priced for others
    assert await refused([{**one, "type": "offer"}], ada) == "/data/flightOffers[0]/type"
    six = [{**one, "id": str(i)} for i in range(1, 7)]
    await asyncio.to_thread(client.booking.flight_orders.post, six, ada)  # six is fine
    assert len(fake.orders) == 1
