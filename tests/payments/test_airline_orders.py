"""Paid Amadeus fares become airline orders (Flight Create Orders), exactly once; a failed order is refunded;
a cancelled booking cancels its order. Real Application, fake Bot API, fake Stripe, fake Amadeus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.database import Database
from models import Booking, BookingStatus, Flight
from models.airline_order import AirlineOrder, AirlineOrderStatus
from repos.base import collection
from services.inbox import BACKOFF_SECONDS
from tests.fakes.amadeus import ORDERS_PATH, SELL_FAILURE_BODY, FakeAmadeus
from tests.flows import (
    continue_from_seats,
    fill_passenger,
    pick_first_fare,
    pick_seats_for_me,
    search_one_line,
    travel_day,
)
from tests.paying import ADMIN_ID, PayingBot, paying_bot
from tests.services.amadeus_support import TIMEOUT, amadeus_fake, amadeus_settings

pytestmark = pytest.mark.slow  # end to end through Amadeus and Stripe fakes; `make test` runs them

__all__ = ["amadeus_fake"]  # the fixture, imported for pytest


@pytest.fixture
async def live(inventory_db: Database, telegram: Any, tmp_path: Path,
               amadeus_fake: FakeAmadeus) -> AsyncIterator[PayingBot]:
    async with paying_bot(inventory_db, telegram, tmp_path, **amadeus_settings(amadeus_fake)) as bot:
        yield bot


async def _live_booking(paying: PayingBot, traveller: Any) -> tuple[Booking, str]:
    """Search → BA117 (live) → seat → Ada → Confirm and pay; the booking and its Checkout session id."""
    await search_one_line(traveller, "LHR", "JFK", travel_day(paying.bot.clock), 1)
    await pick_first_fare(traveller)
    await pick_seats_for_me(traveller)
    await continue_from_seats(traveller)
    await fill_passenger(traveller, 0, "Ada Lovelace", "1985-12-10", "ada@example.com")
    await traveller.wait_for("Please review your booking")
    await traveller.press("Confirm and pay")
    await traveller.wait_for("Pay")
    booking = await Booking.find_one(Booking.user_id == traveller.user_id)
    assert booking is not None and booking.first_flight.source == "amadeus" and booking.payment.session_id
    return booking, booking.payment.session_id


async def _order(booking: Booking) -> AirlineOrder:
    order = await AirlineOrder.find_one(AirlineOrder.booking_id == str(booking.id))
    assert order is not None
    return order


async def test_paid_live_fare_creates_one_order_and_shows_the_pnr(live: PayingBot,
                                                                  amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7101, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    assert amadeus_fake.order_posts() == []  # nothing is ordered before payment
    event = live.completed_event(session_id)
    status, body = await live.post_event(event)
    assert (status, body["outcome"]) == (200, "confirmed")
    _again, repeat = await live.post_event(event)  # Stripe delivers the same event again
    assert repeat["outcome"] == "duplicate"

    posts = amadeus_fake.order_posts()
    assert len(posts) == 1 and len(amadeus_fake.orders) == 1
    sent = posts[0].body["data"]
    assert sent["type"] == "flight-order" and sent["flightOffers"][0]["id"] == "1"
    assert "paymentCardRequired" in sent["flightOffers"][0]  # the priced offer, not the search's
    traveler = sent["travelers"][0]
    assert traveler["name"] == {"firstName": "ADA", "lastName": "LOVELACE"}
    assert traveler["dateOfBirth"] == "1985-12-10" and traveler["contact"]["emailAddress"] == "ada@example.com"

    order = await _order(booking)
    created = next(iter(amadeus_fake.orders.values()))
    assert order.status == AirlineOrderStatus.CREATED and order.order_id == created["id"]
    assert order.pnr == created["associatedRecords"][0]["reference"]
    told = await ada.wait_for("is confirmed")
    assert f"PNR): {order.pnr}" in told.plain_text() and order.order_id in told.plain_text()
    await live.deliver()
    mails = [m for m in live.sendgrid.messages_to("ada@example.com") if "confirmed" in (m.subject or "")]
    assert len(mails) == 1 and str(order.pnr) in (mails[0].text or "")


async def test_two_workers_racing_make_one_order(live: PayingBot, amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7102, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    events = live.services.payment_events
    session = live.stripe.complete_session(session_id)
    fresh = await Booking.get(booking.id)
    assert fresh is not None
    results = await asyncio.gather(events.paid(fresh, session), events.paid(fresh, session),
                                   return_exceptions=True)
    assert any(r == "confirmed" for r in results), results
    await live.post_event(live.completed_event(session_id))  # the webhook finishes whatever is left
    assert len(amadeus_fake.order_posts()) == 1 and len(amadeus_fake.orders) == 1
    assert (await _order(booking)).status == AirlineOrderStatus.CREATED
    await ada.wait_for("PNR")


async def test_refused_order_refunds_and_cancels(live: PayingBot, amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7103, first_name="Ada")
    admin = live.telegram.traveller(ADMIN_ID)
    booking, session_id = await _live_booking(live, ada)
    amadeus_fake.fail_next(400, SELL_FAILURE_BODY, path=ORDERS_PATH)
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "refunded_order_failed"
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED and stored.payment.refund_id
    assert [r["amount"] for r in live.stripe.refunds.values()] == [booking.price.total]
    order = await _order(booking)
    assert order.status == AirlineOrderStatus.FAILED and "HTTP 400" in (order.last_error or "")
    told = await ada.wait_for("could not issue")
    assert "refunded" in told.plain_text()
    alert = await admin.wait_for(booking.reference)
    assert "Amadeus did not create" in alert.plain_text()
    assert amadeus_fake.orders == {} and len(amadeus_fake.order_posts()) == 1


async def test_server_error_is_retried_with_the_inbox_backoff(live: PayingBot, amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7104, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    amadeus_fake.fail_next(500, path=ORDERS_PATH)
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "received"  # waiting for its retry
    order = await _order(booking)
    assert order.status == AirlineOrderStatus.PENDING and order.calling_ms is None and order.attempts == 1
    assert "HTTP 500" in (order.last_error or "")
    assert len(amadeus_fake.order_posts()) == 1 and amadeus_fake.orders == {}
    await live.process_inbox()
    assert len(amadeus_fake.order_posts()) == 1  # not due yet: no second request
    live.bot.clock.advance(timedelta(seconds=BACKOFF_SECONDS[0]))
    await live.process_inbox()
    assert len(amadeus_fake.order_posts()) == 2 and len(amadeus_fake.orders) == 1
    order = await _order(booking)
    assert order.status == AirlineOrderStatus.CREATED and order.attempts == 2
    told = await ada.wait_for("is confirmed")
    assert order.pnr is not None and order.pnr in told.plain_text()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED and not live.stripe.refunds


async def test_order_still_failing_after_the_last_attempt_is_refunded(live: PayingBot,
                                                                      amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7105, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    amadeus_fake.fail_next(503, times=len(BACKOFF_SECONDS) + 1, path=ORDERS_PATH)
    await live.post_event(live.completed_event(session_id))
    for delay in BACKOFF_SECONDS:
        live.bot.clock.advance(timedelta(seconds=delay))
        await live.process_inbox()
    assert len(amadeus_fake.order_posts()) == len(BACKOFF_SECONDS) + 1
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    assert len(live.stripe.refunds) == 1 and (await _order(booking)).status == AirlineOrderStatus.FAILED
    await ada.wait_for("could not issue")


async def test_no_answer_is_never_sent_again_and_is_refunded(live: PayingBot, amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7106, first_name="Ada")
    admin = live.telegram.traveller(ADMIN_ID)
    booking, session_id = await _live_booking(live, ada)
    amadeus_fake.fail_next(201, {}, delay=TIMEOUT + 1, path=ORDERS_PATH)  # the order may have been made
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "refunded_order_failed"
    assert len(amadeus_fake.order_posts()) == 1
    order = await _order(booking)
    assert order.status == AirlineOrderStatus.FAILED and "outcome unknown" in (order.last_error or "")
    assert len(live.stripe.refunds) == 1
    alert = await admin.wait_for("may exist")
    assert booking.reference in alert.plain_text()
    await live.post_event(live.completed_event(session_id))  # a later delivery sends nothing either
    assert len(amadeus_fake.order_posts()) == 1


async def test_a_call_cut_short_by_a_crash_is_not_sent_again(live: PayingBot, amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7107, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    # A worker claimed the call and died before recording an answer.
    await AirlineOrder(booking_id=str(booking.id), reference=booking.reference, attempts=1,
                       calling_ms=live.bot.clock.now_ms(), created_at=live.bot.clock.now(),
                       updated_ms=live.bot.clock.now_ms()).insert()
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "received"  # the call may still be running: wait
    live.bot.clock.advance(timedelta(minutes=2))
    await live.process_inbox()
    assert amadeus_fake.order_posts() == []
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED and len(live.stripe.refunds) == 1


async def test_cancelling_the_booking_cancels_the_order(live: PayingBot, amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7108, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    await live.post_event(live.completed_event(session_id))
    await ada.wait_for("is confirmed")
    order = await _order(booking)
    await ada.send(f"/cancel {booking.reference}")
    await ada.wait_for("is cancelled")
    deletes = amadeus_fake.order_deletes()
    assert len(deletes) == 1 and order.order_id is not None and deletes[0].path.endswith(order.order_id)
    assert amadeus_fake.orders == {} and (await _order(booking)).status == AirlineOrderStatus.CANCELLED
    assert len(live.stripe.refunds) == 1


async def test_a_failing_cancel_alerts_the_admins_and_still_refunds(live: PayingBot,
                                                                    amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7109, first_name="Ada")
    admin = live.telegram.traveller(ADMIN_ID)
    booking, session_id = await _live_booking(live, ada)
    await live.post_event(live.completed_event(session_id))
    await ada.wait_for("is confirmed")
    amadeus_fake.fail_next(500, path=ORDERS_PATH)
    await ada.send(f"/cancel {booking.reference}")
    outcome = await ada.wait_for("is cancelled")
    assert "Refunded" in outcome.plain_text() and len(live.stripe.refunds) == 1
    alert = await admin.wait_for("could not be cancelled")
    assert booking.reference in alert.plain_text()
    order = await _order(booking)
    assert order.status == AirlineOrderStatus.CREATED and "cancel failed" in (order.last_error or "")
    assert len(amadeus_fake.orders) == 1


async def test_dashboard_refund_cancels_the_order(live: PayingBot, amadeus_fake: FakeAmadeus) -> None:
    from tests.fakes.stripe import build_event

    ada = live.telegram.traveller(7110, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    await live.post_event(live.completed_event(session_id))
    paid = await Booking.get(booking.id)
    assert paid is not None and paid.payment.payment_intent_id
    charge = {"id": "ch_dash", "object": "charge", "payment_intent": paid.payment.payment_intent_id,
              "amount": 54670, "amount_refunded": 54670, "currency": "eur", "refunded": True}
    _status, body = await live.post_event(build_event("charge.refunded", charge))
    assert body["outcome"] == "refunded"
    assert len(amadeus_fake.order_deletes()) == 1 and amadeus_fake.orders == {}
    assert (await _order(booking)).status == AirlineOrderStatus.CANCELLED


async def test_local_inventory_bookings_never_order_with_amadeus(live: PayingBot,
                                                                 amadeus_fake: FakeAmadeus) -> None:
    amadeus_fake.fail_next(500, times=5, path="/v2/shopping")  # searches fall back to the FlyO inventory
    ada = live.telegram.traveller(7111, first_name="Ada")
    booking, session_id = await live.booked_with_link(ada)
    assert booking.first_flight.source == "local"
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "confirmed"
    await live.process_inbox()
    await ada.wait_for("is confirmed")
    assert amadeus_fake.order_posts() == [] and await AirlineOrder.find_all().count() == 0
    await ada.send(f"/cancel {booking.reference}")
    await ada.wait_for("is cancelled")
    assert amadeus_fake.order_deletes() == []


async def test_fake_refuses_an_order_without_travelers_like_amadeus(amadeus_fake: FakeAmadeus) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{amadeus_fake.url}/v1/security/oauth2/token", data={
                "grant_type": "client_credentials", "client_id": amadeus_fake.client_id,
                "client_secret": amadeus_fake.client_secret}) as answer:
            token = (await answer.json(content_type=None))["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        offer = amadeus_fake.offers[0]
        bad = {"data": {"type": "flight-order", "flightOffers": [offer],
                        "travelers": [{"id": "1", "name": {"firstName": "ADA"}, "dateOfBirth": "1985-12-10"}]}}
        async with client.post(f"{amadeus_fake.url}{ORDERS_PATH}", json=bad, headers=headers) as answer:
            assert answer.status == 400
            error = (await answer.json(content_type=None))["errors"][0]
            assert error["source"]["pointer"] == "/data/travelers[0]/name/lastName"
        async with client.delete(f"{amadeus_fake.url}{ORDERS_PATH}/nope", headers=headers) as answer:
            assert answer.status == 404


async def _replace_kept_offer_with_one_for_two(booking: Booking) -> None:
    """Another traveller's search for two adults stored its offer on the flight after Ada's review."""
    flight = await Flight.get(booking.first_flight.flight_id)
    assert flight is not None and flight.offer is not None
    pricings = flight.offer["travelerPricings"]
    flight.offer["travelerPricings"] = [*pricings, {**pricings[0], "travelerId": "2"}]
    await collection(Flight).update_one({"_id": flight.id}, {"$set": {"offer": flight.offer}})


async def _as_before_bookings_kept_their_offer(booking: Booking) -> None:
    """A booking made by the previous version: its flight snapshot has no offer."""
    await collection(Booking).update_one({"_id": booking.id}, {"$unset": {"flight.offer": ""}})


async def test_the_offer_she_booked_is_ordered_even_after_another_search_replaced_the_flights(
        live: PayingBot, amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7111, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    assert booking.first_flight.offer is not None  # kept with the booking when it was made
    await _replace_kept_offer_with_one_for_two(booking)
    amadeus_fake.pricing_override = "612.30"  # were it priced again, the fare would differ
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "confirmed"
    sent = amadeus_fake.order_posts()[0].body["data"]["flightOffers"][0]
    assert sent == booking.first_flight.offer and len(sent["travelerPricings"]) == 1
    assert (await _order(booking)).status == AirlineOrderStatus.CREATED


async def test_an_offer_for_other_travellers_is_priced_again_for_hers(live: PayingBot,
                                                                      amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7112, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    await _as_before_bookings_kept_their_offer(booking)
    await _replace_kept_offer_with_one_for_two(booking)
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "confirmed"
    sent = amadeus_fake.order_posts()[0].body["data"]["flightOffers"][0]
    assert len(sent["travelerPricings"]) == 1
    assert (await _order(booking)).status == AirlineOrderStatus.CREATED


async def test_an_offer_priced_again_at_another_fare_is_refunded(live: PayingBot,
                                                                 amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7113, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    await _as_before_bookings_kept_their_offer(booking)
    await _replace_kept_offer_with_one_for_two(booking)
    amadeus_fake.pricing_override = "612.30"
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "refunded_order_failed"
    assert amadeus_fake.order_posts() == [] and len(live.stripe.refunds) == 1
    assert "now 61230 EUR" in ((await _order(booking)).last_error or "")
