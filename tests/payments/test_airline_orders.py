"""Paid Amadeus fares become airline orders (Flight Create Orders), exactly once; a failed order is refunded;
a cancelled booking cancels its order. Real Application, fake Bot API, fake Stripe, fake Amadeus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.database import Database
from models import Booking, BookingStatus, Flight, Passenger
from models.airline_order import AirlineOrder, AirlineOrderStatus
from repos.base import collection
from services.bookings import NewBooking, NewSegment
from services.inbox import BACKOFF_SECONDS
from services.seats import chat_holder
from tests.fakes.amadeus import ORDERS_PATH, SELL_FAILURE_BODY, FakeAmadeus, build_offer
from tests.flows import (
    confirm_cancel,
    continue_from_seats,
    drain_outbox,
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
    await confirm_cancel(ada)
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
    await confirm_cancel(ada)
    outcome = await ada.wait_for("is cancelled")
    assert "is on its way back to your card" in outcome.plain_text() and len(live.stripe.refunds) == 1
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
    await confirm_cancel(ada)
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
    """A booking made by the previous version: its flight snapshots have no offer (segments written whole)."""
    segments = [s.model_copy(update={"flight": s.flight.model_copy(update={"offer": None})}) for s in booking.segments]
    await collection(Booking).update_one({"_id": booking.id}, {"$set": {
        "segments": [s.model_dump(mode="python") for s in segments]}})


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


# ---- itineraries: every live segment in one order -------------------------------------------------------
async def _live_leg(paying: PayingBot, fake: FakeAmadeus, origin: str, destination: str, day: date,
                    number: str) -> Flight:
    """The Amadeus flight a one-way search for this leg stores (the fake answers with this leg's offer, id "1")."""
    fake.offers = [build_offer("1", origin, destination, f"{day}T09:00:00", f"{day}T21:30:00", number=number)]
    found = await paying.services.flights.search([origin], [destination], day, 1)
    flight: Flight = next(o.flight for o in found.options if o.flight.flight_number == f"BA{number}")
    assert flight.source == "amadeus" and flight.offer is not None
    return flight


async def _local_leg(paying: PayingBot, origin: str, destination: str, day: date) -> Flight:
    found = await paying.services.flights.local.search([origin], [destination], day, 1)
    assert found, f"no local {origin}->{destination} on {day}"
    flight: Flight = found[0]
    return flight


async def _trip(paying: PayingBot, user: int, legs: list[Flight]) -> tuple[Booking, str]:
    """A PENDING booking of `legs` (outbound, return) for Ada with a Checkout session, made through the services."""
    svc = paying.services
    parts = []
    for leg, flight in enumerate(legs):
        cabin = "ECONOMY" if "ECONOMY" in flight.fares else next(iter(flight.fares))
        taken = await svc.seats.taken(str(flight.id))
        seat = next(f"{r}{c}" for r in range(30, 60) for c in "ABC" if f"{r}{c}" not in taken)
        await svc.seats.hold(str(flight.id), seat, chat_holder(user), cabin)
        parts.append(NewSegment(flight, cabin, [seat], flight.fares[cabin], leg))
    booking = await svc.bookings.create(NewBooking(
        user_id=user, chat_id=user, segments=parts, email="ada@example.com", draft_key=f"{user}:trip",
        passengers=[Passenger(full_name="Ada Lovelace", birth_date=date(1985, 12, 10))],
        currency=legs[0].currency), chat_holder(user))
    link = await svc.payments.ensure_link(booking)
    assert link.booking.payment.session_id
    return link.booking, link.booking.payment.session_id


async def _live_return(paying: PayingBot, fake: FakeAmadeus, user: int) -> tuple[Booking, str]:
    out, back = travel_day(paying.bot.clock, 20), travel_day(paying.bot.clock, 27)
    legs = [await _live_leg(paying, fake, "LHR", "JFK", out, "117"),
            await _live_leg(paying, fake, "JFK", "LHR", back, "112")]
    return await _trip(paying, user, legs)


async def test_a_paid_return_trip_orders_both_legs_in_one_order_with_one_pnr(live: PayingBot,
                                                                             amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7201, first_name="Ada")
    booking, session_id = await _live_return(live, amadeus_fake, 7201)
    assert [s.flight.source for s in booking.segments] == ["amadeus", "amadeus"]
    event = live.completed_event(session_id)
    _status, body = await live.post_event(event)
    assert body["outcome"] == "confirmed"
    _again, repeat = await live.post_event(event)  # delivered twice
    assert repeat["outcome"] == "duplicate"
    await live.post_event(live.completed_event(session_id))  # and as another event for the same session
    posts = amadeus_fake.order_posts()
    assert len(posts) == 1 and len(amadeus_fake.orders) == 1
    sent = posts[0].body["data"]["flightOffers"]
    assert [o["itineraries"][0]["segments"][0]["number"] for o in sent] == ["117", "112"]
    assert [o["id"] for o in sent] == ["1", "2"]
    assert [{**o, "id": "1"} for o in sent] == [s.flight.offer for s in booking.segments]
    order = await _order(booking)
    created = next(iter(amadeus_fake.orders.values()))
    assert order.status == AirlineOrderStatus.CREATED and order.order_id == created["id"]
    assert order.references == [created["associatedRecords"][0]["reference"]] and order.segments == [0, 1]
    told = await ada.wait_for("is confirmed")
    assert f"PNR): {order.pnr}" in told.plain_text() and order.order_id in told.plain_text()
    await drain_outbox(live.services)  # the pump may hold the e-mail
    mails = [m for m in live.sendgrid.messages_to("ada@example.com") if "confirmed" in (m.subject or "")]
    assert len(mails) == 1 and str(order.pnr) in (mails[0].text or "")


async def test_a_refused_return_trip_order_refunds_the_whole_trip(live: PayingBot,
                                                                 amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7202, first_name="Ada")
    admin = live.telegram.traveller(ADMIN_ID)
    booking, session_id = await _live_return(live, amadeus_fake, 7202)
    amadeus_fake.fail_next(400, SELL_FAILURE_BODY, path=ORDERS_PATH)
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "refunded_order_failed"
    assert [r["amount"] for r in live.stripe.refunds.values()] == [booking.price.total]
    assert booking.price.total == sum(s.fare_per_passenger for s in booking.segments)
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    assert amadeus_fake.orders == {} and len(amadeus_fake.order_posts()) == 1
    told = await ada.wait_for("could not issue")
    assert "refunded" in told.plain_text()
    assert "Amadeus did not create" in (await admin.wait_for(booking.reference)).plain_text()


async def test_cancelling_a_return_trip_cancels_its_order(live: PayingBot, amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7203, first_name="Ada")
    booking, session_id = await _live_return(live, amadeus_fake, 7203)
    await live.post_event(live.completed_event(session_id))
    await ada.wait_for("is confirmed")
    order = await _order(booking)
    await ada.send(f"/cancel {booking.reference}")
    await confirm_cancel(ada)
    await ada.wait_for("is cancelled")
    assert [d.path for d in amadeus_fake.order_deletes()] == [f"{ORDERS_PATH}/{order.order_id}"]
    assert amadeus_fake.orders == {} and (await _order(booking)).status == AirlineOrderStatus.CANCELLED
    assert len(live.stripe.refunds) == 1


async def test_a_live_outbound_with_a_local_return_orders_only_the_live_leg(live: PayingBot,
                                                                           amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7204, first_name="Ada")
    out, back = travel_day(live.bot.clock, 20), travel_day(live.bot.clock, 27)
    outbound = await _live_leg(live, amadeus_fake, "LHR", "JFK", out, "117")
    local = await _local_leg(live, "JFK", "LHR", back)
    local_fare = next(iter(local.fares.values()))
    amadeus_fake.offers = []  # nothing live for the return
    booking, session_id = await _trip(live, 7204, [outbound, local])
    assert [s.flight.source for s in booking.segments] == ["amadeus", "local"] and local_fare
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "confirmed"
    posts = amadeus_fake.order_posts()
    assert len(posts) == 1
    assert posts[0].body["data"]["flightOffers"] == [booking.segments[0].flight.offer]
    order = await _order(booking)
    assert order.status == AirlineOrderStatus.CREATED and order.segments == [0]
    await ada.wait_for("PNR")


async def test_a_local_outbound_with_a_live_return_still_orders_the_return(live: PayingBot,
                                                                          amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7205, first_name="Ada")
    out, back = travel_day(live.bot.clock, 20), travel_day(live.bot.clock, 27)
    local = await _local_leg(live, "LHR", "JFK", out)
    inbound = await _live_leg(live, amadeus_fake, "JFK", "LHR", back, "112")
    booking, session_id = await _trip(live, 7205, [local, inbound])
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "confirmed"
    sent = amadeus_fake.order_posts()[0].body["data"]["flightOffers"]
    assert sent == [booking.segments[1].flight.offer]
    assert (await _order(booking)).segments == [1]
    await ada.wait_for("PNR")


async def test_a_return_leg_priced_again_at_another_fare_is_refunded(live: PayingBot,
                                                                    amadeus_fake: FakeAmadeus) -> None:
    """The rule compares each segment with its own fare: the return alone changed, so nothing is ordered."""
    booking, session_id = await _live_return(live, amadeus_fake, 7206)
    await _as_before_bookings_kept_their_offer(booking)
    back = await Flight.get(booking.segments[1].flight.flight_id)
    assert back is not None and back.offer is not None
    back.offer["travelerPricings"] = [*back.offer["travelerPricings"],
                                      {**back.offer["travelerPricings"][0], "travelerId": "2"}]
    await collection(Flight).update_one({"_id": back.id}, {"$set": {"offer": back.offer}})
    amadeus_fake.offers = [build_offer("1", "JFK", "LHR", f"{back.departure_date}T09:00:00",
                                       f"{back.departure_date}T21:30:00", number="112")]
    amadeus_fake.pricing_override = "612.30"
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "refunded_order_failed"
    assert amadeus_fake.order_posts() == [] and len(live.stripe.refunds) == 1
    error = (await _order(booking)).last_error or ""
    assert "BA112" in error and f"paid {booking.segments[1].fare_per_passenger} " in error


async def test_an_order_stored_before_itineraries_is_still_honoured(live: PayingBot,
                                                                    amadeus_fake: FakeAmadeus) -> None:
    """A row written by the previous version (one `pnr`, no `pnrs`/`segments`): loaded, shown, cancelled."""
    ada = live.telegram.traveller(7207, first_name="Ada")
    booking, session_id = await _live_booking(live, ada)
    old_id = "eJzTd9f3OLDORDER"
    amadeus_fake.orders[old_id] = {"id": old_id, "associatedRecords": [{"reference": "OLD123"}]}  # made before
    now = live.bot.clock
    await collection(AirlineOrder).insert_one({
        "booking_id": str(booking.id), "reference": booking.reference, "status": "created",
        "order_id": old_id, "pnr": "OLD123", "last_error": None, "attempts": 1, "calling_ms": None,
        "next_attempt_ms": 0, "created_at": now.now(), "updated_ms": now.now_ms()})
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "confirmed" and amadeus_fake.order_posts() == []  # honoured, not made again
    order = await _order(booking)
    assert order.references == ["OLD123"] and order.segments == []
    told = await ada.wait_for("is confirmed")
    assert "PNR): OLD123" in told.plain_text()
    await ada.send(f"/cancel {booking.reference}")
    await confirm_cancel(ada)
    await ada.wait_for("is cancelled")
    assert [d.path for d in amadeus_fake.order_deletes()] == [f"{ORDERS_PATH}/{old_id}"]
    assert (await _order(booking)).status == AirlineOrderStatus.CANCELLED


async def test_a_trip_amadeus_splits_into_two_records_shows_both_pnrs(live: PayingBot,
                                                                     amadeus_fake: FakeAmadeus) -> None:
    ada = live.telegram.traveller(7208, first_name="Ada")
    out, back = travel_day(live.bot.clock, 20), travel_day(live.bot.clock, 27)
    outbound = await _live_leg(live, amadeus_fake, "LHR", "JFK", out, "117")
    amadeus_fake.offers = [build_offer("1", "JFK", "LHR", f"{back}T09:00:00", f"{back}T21:30:00", number="112")]
    amadeus_fake.offers[0]["nonHomogeneous"] = True  # "expected to yield multiple records"
    found = await live.services.flights.search(["JFK"], ["LHR"], back, 1)
    inbound = next(o.flight for o in found.options if o.flight.flight_number == "BA112")
    booking, session_id = await _trip(live, 7208, [outbound, inbound])
    _status, body = await live.post_event(live.completed_event(session_id))
    assert body["outcome"] == "confirmed" and len(amadeus_fake.order_posts()) == 1
    order = await _order(booking)
    created = next(iter(amadeus_fake.orders.values()))
    assert order.references == [r["reference"] for r in created["associatedRecords"]] and len(order.references) == 2
    told = await ada.wait_for("is confirmed")
    assert f"PNR): {order.references[0]}, {order.references[1]}" in told.plain_text()
    await drain_outbox(live.services)  # the pump may hold the e-mail
    mail = next(m for m in live.sendgrid.messages_to("ada@example.com") if "confirmed" in (m.subject or ""))
    assert all(pnr in (mail.text or "") for pnr in order.references)
