"""The Amadeus order adapter against the fake: what each kind of failure becomes (retry, refusal, unknown)."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import ProviderUnavailable
from services.airline_orders import OrderOutcomeUnknown, OrderTraveler
from services.providers.amadeus_orders import AmadeusOrders
from services.providers.base import ProviderRejected
from tests.fakes.amadeus import ORDERS_PATH, SELL_FAILURE_BODY, FakeAmadeus
from tests.services.amadeus_support import TIMEOUT, fake, provider

__all__ = ["fake"]  # the fixture, imported for pytest

ADA = OrderTraveler("Ada", "Lovelace", date(1985, 12, 10), email="ada@example.com", phone="+447700900123")


async def test_create_returns_the_order_id_and_pnr_and_sends_the_travelers(fake: FakeAmadeus) -> None:
    orders = AmadeusOrders(provider(fake))
    order_id, pnr = await orders.create_order(fake.offers[0], [ADA])
    stored = fake.orders[order_id]
    assert pnr == stored["associatedRecords"][0]["reference"] and len(pnr) == 6
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
        await AmadeusOrders(provider(fake)).create_order(fake.offers[0], [ADA])
    assert not isinstance(caught.value, ProviderRejected | OrderOutcomeUnknown)


async def test_a_refusal_is_definitive(fake: FakeAmadeus) -> None:
    fake.fail_next(400, SELL_FAILURE_BODY, path=ORDERS_PATH)
    with pytest.raises(ProviderRejected, match="HTTP 400"):
        await AmadeusOrders(provider(fake)).create_order(fake.offers[0], [ADA])


async def test_no_answer_is_an_unknown_outcome(fake: FakeAmadeus) -> None:
    fake.fail_next(201, {}, delay=TIMEOUT + 1, path=ORDERS_PATH)
    with pytest.raises(OrderOutcomeUnknown, match="no answer"):
        await AmadeusOrders(provider(fake)).create_order(fake.offers[0], [ADA])


async def test_a_failing_cancel_raises(fake: FakeAmadeus) -> None:
    orders = AmadeusOrders(provider(fake))
    order_id, _pnr = await orders.create_order(fake.offers[0], [ADA])
    fake.fail_next(500, path=ORDERS_PATH)
    with pytest.raises(ProviderUnavailable):
        await orders.cancel_order(order_id)
    assert order_id in fake.orders
