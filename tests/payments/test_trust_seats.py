"""Trust I: a paid seat is never sold twice, late payments still confirm, and "N left" counts booked seats."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

from models import Booking, BookingStatus, SeatHold
from repos.base import collection
from tests.fakes.stripe import build_event
from tests.flows import drain_outbox
from tests.invariants import assert_seat_and_money_invariants
from tests.paying import ADMIN_ID, PayingBot


async def test_last_second_payment_is_not_resold_when_its_webhook_is_late(paying: PayingBot) -> None:
    """Ada pays at the last second; Bob picks 32 min later; Ada's webhook arrives: only one has each seat."""
    ada = paying.telegram.traveller(5101, first_name="Ada")
    bob = paying.telegram.traveller(5102, first_name="Bob")
    ada_booking, ada_session = await paying.booked_with_link(ada)
    paid = paying.completed_event(ada_session)  # Ada pays now; Stripe's webhook is late
    searched_on = paying.bot.clock.now().date()
    paying.bot.clock.advance(timedelta(minutes=32))
    # "Pick for me" on the same flight: the same travel day, also when these 32 minutes pass midnight (UTC).
    same_day = 10 - (paying.bot.clock.now().date() - searched_on).days
    bob_booking, bob_session = await paying.booked_with_link(bob, days_ahead=same_day)
    assert bob_booking.first_flight.flight_id == ada_booking.first_flight.flight_id
    bob_seats, ada_seats = set(bob_booking.segments[0].seats), set(ada_booking.segments[0].seats)
    assert not bob_seats & ada_seats, "Bob was offered Ada's paid seat"
    status, body = await paying.post_event(paying.completed_event(bob_session))
    assert (status, body["outcome"]) == (200, "confirmed")
    status, body = await paying.post_event(paid)
    assert (status, body["outcome"]) == (200, "confirmed")
    await ada.wait_for("is confirmed")
    stored = await Booking.get(ada_booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    await assert_seat_and_money_invariants()


async def test_pending_booking_seats_stay_taken_on_the_map_after_the_window(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(5103)
    booking, _ = await paying.booked_with_link(ada)
    paying.bot.clock.advance(timedelta(minutes=paying.bot.settings.PAYMENT_WINDOW_MINUTES + 5))
    taken = await paying.services.seats.taken(booking.first_flight.flight_id)
    assert set(booking.segments[0].seats) <= set(taken)  # not offered to anyone while the booking is PENDING
    for seat in booking.segments[0].seats:
        try:
            await paying.services.seats.hold(booking.first_flight.flight_id, seat, "chat:1", booking.first_flight.cabin)
        except Exception as exc:
            assert "taken" in str(exc)
        else:
            raise AssertionError(f"{seat} of a PENDING booking was handed to another traveller")


async def test_sweep_confirms_a_paid_session_instead_of_cancelling_it(paying: PayingBot) -> None:
    """The webhook never arrived (wrong secret, outage): the sweep asks Stripe before cancelling."""
    ada = paying.telegram.traveller(5104)
    booking, session_id = await paying.booked_with_link(ada)
    paying.stripe.complete_session(session_id)  # paid, but no webhook reaches FlyO
    paying.bot.clock.advance(timedelta(minutes=paying.bot.settings.PAYMENT_WINDOW_MINUTES + 2))
    await paying.services.sweeper.run()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    assert {h.status for h in await SeatHold.find(SeatHold.booking_id == str(booking.id)).to_list()} == {"booked"}
    await ada.wait_for("is confirmed")
    assert not any("wasn't paid in time" in m.plain_text() for m in ada.messages())
    # the webhook arriving afterwards changes nothing
    status, body = await paying.post_event(paying.completed_event(session_id))
    assert status == 200 and body["outcome"] in ("already_confirmed", "confirmed")
    await paying.deliver()
    assert len(paying.sendgrid.messages_to("ada@example.com")) == 1


async def test_sweep_cancels_when_stripe_confirms_the_session_expired(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(5105)
    booking, session_id = await paying.booked_with_link(ada)
    paying.bot.clock.advance(timedelta(minutes=paying.bot.settings.PAYMENT_WINDOW_MINUTES + 2))
    await paying.services.sweeper.run()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    assert paying.stripe.sessions[session_id]["status"] == "expired"
    assert await SeatHold.find(SeatHold.booking_id == str(booking.id)).count() == 0


@pytest.mark.slow  # Stripe unreachable: waits out the gateway's retries (3 s)
async def test_sweep_keeps_the_booking_while_stripe_cannot_answer_then_cancels_after_grace(
        paying: PayingBot) -> None:
    ada = paying.telegram.traveller(5106)
    booking, session_id = await paying.booked_with_link(ada)
    settings = paying.bot.settings
    paying.bot.clock.advance(timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES + 2))
    for _ in range(6):  # the adapter retries; every call fails
        paying.stripe.fail_next(500)
    await paying.services.sweeper.run()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.PENDING  # can't know whether she paid
    assert set(booking.segments[0].seats) <= set(await paying.services.seats.taken(booking.first_flight.flight_id))
    paying.bot.clock.advance(timedelta(minutes=settings.HOLD_GRACE_MINUTES + 1))
    await paying.services.sweeper.run()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    # Stripe never answered, so the link may still be paid: that payment is refunded, not lost
    status, body = await paying.post_event(paying.completed_event(session_id))
    assert (status, body["outcome"]) == (200, "refunded_late_payment")
    assert len(paying.stripe.refunds) == 1


async def test_confirming_reseats_a_traveller_whose_seat_was_lost(paying: PayingBot) -> None:
    """A seat the booking no longer holds (lost to a fault or an admin's cleanup) is replaced, and she is told."""
    ada = paying.telegram.traveller(5107)
    booking, session_id = await paying.booked_with_link(ada)
    lost = booking.segments[0].seats[0]
    await collection(SeatHold).delete_one({"seat_key": f"{booking.first_flight.flight_id}:{lost}"})
    await paying.services.seats.hold(booking.first_flight.flight_id, lost, "chat:999", booking.first_flight.cabin)
    status, body = await paying.post_event(paying.completed_event(session_id))
    assert (status, body["outcome"]) == (200, "confirmed")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    assert lost not in stored.segments[0].seats and len(stored.segments[0].seats) == 1
    told = await ada.wait_for("is confirmed")
    assert stored.segments[0].seats[0] in told.plain_text() and lost in told.plain_text()
    await drain_outbox(paying.services)
    [mail] = paying.sendgrid.messages_to("ada@example.com")
    move = f"{lost} → {stored.segments[0].seats[0]}"
    assert move in (mail.text or "") and move in html.unescape(mail.html or "")  # the seat change in both parts
    await assert_seat_and_money_invariants()


async def test_confirming_refunds_and_alerts_when_no_equivalent_seat_is_left(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(5108)
    admin = paying.telegram.traveller(ADMIN_ID)
    booking, session_id = await paying.booked_with_link(ada)
    flight_id, cabin = booking.first_flight.flight_id, booking.first_flight.cabin
    layout, _ = await paying.services.flights.layout(await paying.services.flights.get(flight_id), cabin)
    assert layout is not None
    await collection(SeatHold).delete_many({"booking_id": str(booking.id)})
    for seat in layout.seat_codes():  # the cabin fills up with other travellers' seats
        await paying.services.seats.hold(flight_id, seat, "chat:999", cabin)
    status, body = await paying.post_event(paying.completed_event(session_id))
    assert (status, body["outcome"]) == (200, "refunded_no_seat")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED and stored.flag == "oversold"
    assert len(paying.stripe.refunds) == 1
    await admin.wait_for(booking.reference)
    await ada.wait_for("refunded")


async def test_seats_left_counts_booked_seats_and_a_sold_out_cabin_is_not_offered(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(5109)
    booking, session_id = await paying.booked_with_link(ada, pax=2)
    services = paying.services
    flight = await services.flights.get(booking.first_flight.flight_id)
    assert flight is not None
    before = (await services.flights.with_availability([flight]))[0].seats_left[booking.first_flight.cabin]
    # "Pay again" path: the link is re-made, which re-holds the booking's seats
    expired = paying.stripe.expire_session(session_id)
    await paying.post_event(build_event("checkout.session.expired", expired))
    await services.payments.ensure_link(booking)
    after = (await services.flights.with_availability([flight]))[0].seats_left[booking.first_flight.cabin]
    assert after == before
    stored = await Booking.get(booking.id)
    assert stored is not None
    await paying.post_event(paying.completed_event(stored.payment.session_id or ""))
    confirmed = (await services.flights.with_availability([flight]))[0].seats_left[booking.first_flight.cabin]
    assert confirmed == before
    assert {h.cabin for h in await SeatHold.find(SeatHold.booking_id == str(booking.id)).to_list()} == {
        booking.first_flight.cabin}


async def test_sold_out_cabin_stays_sold_out_after_a_new_payment_link(paying: PayingBot) -> None:
    """The 'Pay again' re-hold used to drop the cabin, so a full cabin showed seats left and was offered."""
    ada = paying.telegram.traveller(5111)
    booking, session_id = await paying.booked_with_link(ada, pax=2)
    services = paying.services
    flight = await services.flights.get(booking.first_flight.flight_id)
    assert flight is not None
    cabin = booking.first_flight.cabin
    layout, _ = await services.flights.layout(flight, cabin)
    assert layout is not None
    for seat in layout.seat_codes():  # everybody else fills the cabin
        if seat not in booking.segments[0].seats:
            await services.seats.hold(str(flight.id), seat, "chat:999", cabin)
    expired = paying.stripe.expire_session(session_id)
    await paying.post_event(build_event("checkout.session.expired", expired))
    await services.payments.ensure_link(booking)  # attempt 2 re-holds the booking's seats
    assert (await services.flights.with_availability([flight]))[0].seats_left.get(cabin, 0) == 0
    bob = paying.telegram.traveller(5112)
    await bob.send(f"/search {flight.origin} {flight.destination} {flight.departure_date} 1")
    results = await bob.wait_for("tap a fare")
    offered = [b.callback_data or "" for row in results.buttons for b in row]
    assert any(f"{flight.id}." in data for data in offered), "the flight itself should still be listed"
    assert not any(data.endswith(f"{flight.id}.{cabin[0]}") for data in offered), "a full cabin was offered"


async def test_two_replicas_sweeping_a_paid_session_confirm_it_once(paying: PayingBot) -> None:
    import asyncio

    ada = paying.telegram.traveller(5113)
    booking, session_id = await paying.booked_with_link(ada)
    paying.stripe.complete_session(session_id)  # paid; the webhook is lost
    paying.bot.clock.advance(timedelta(minutes=paying.bot.settings.PAYMENT_WINDOW_MINUTES + 2))
    sweeper = paying.services.sweeper
    await asyncio.gather(sweeper.run(), sweeper.run())
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    await ada.wait_for("is confirmed")
    await paying.deliver()
    assert sum("is confirmed" in m.plain_text() for m in ada.messages()) == 1
