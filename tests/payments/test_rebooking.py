"""A disrupted flight's choice (issue #18): the cancellation alert offers the next flights of the route with free
seats in the cabin and a full refund; rebooking keeps the reference, the ticket numbers and the price, moves the
seats, re-sends the e-ticket; 100 travellers racing for 40 seats get exactly 40; a crash mid-move is finished by
the sweep; unanswered, the booking is refunded in full 6 hours before departure. Every test ends with the seat and
money invariants (tests/paying.py)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from core.clock import as_utc
from core.errors import FlyOError
from models import Booking, BookingStatus, SeatHold
from models.flight import Flight
from models.flight_status import FlightStatusKind
from models.seat import HoldStatus
from repos.base import collection
from services.providers.status_feed import StatusUpdate
from services.rebooking import RebookRefused
from tests.crowd import confirmed_crowd, confirmed_itinerary
from tests.flows import drain_outbox
from tests.paying import ADMIN_ID, PayingBot


async def _cancel(paying: PayingBot, flight: Flight, key: str = "feed:cx") -> None:
    recorded = await paying.services.flight_status.record(StatusUpdate(
        key=key, flight=flight, kind=FlightStatusKind.CANCELLED, at_ms=paying.bot.clock.now_ms(), source="feed",
        reason="crew shortage"))
    assert recorded.applied


async def _flight_of(booking: Booking) -> Flight:
    flight = await Flight.get(booking.segments[0].flight.flight_id)
    assert flight is not None
    return flight


def segment_cabin(booking: Booking) -> str:
    return booking.segments[0].flight.cabin


def _choice(traveller: Any) -> Any:
    alerts = [m for m in traveller.messages() if "is cancelled" in m.plain_text()]
    assert len(alerts) == 1
    return alerts[0]


async def test_the_cancellation_alert_offers_flights_and_rebooking_moves_the_booking_once(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(4001, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace", "Charles Babbage"])
    flight = await _flight_of(booking)
    await _cancel(paying, flight)
    await drain_outbox(paying.services)
    alert = _choice(ada)
    labels = alert.button_labels()
    assert labels[-1] == "💷 Refund in full" and 1 <= len(labels) - 1 <= 3, labels
    assert "Choose another flight" in alert.plain_text()
    option = alert.buttons[0][0]
    target_id = option.callback_data.split(".")[-1]
    target = await Flight.get(target_id)
    assert target is not None and (target.origin, target.destination) == (flight.origin, flight.destination)
    assert as_utc(flight.departs_at) < as_utc(target.departs_at) <= as_utc(flight.departs_at) + timedelta(hours=48)
    assert target.flight_number in option.text
    documents = sum(1 for m in ada.messages() if m.document is not None)

    for _ in range(25):  # an anxious traveller
        await ada.press(option.text, alert)
    moved_message = await ada.wait_for("is moved to")
    await drain_outbox(paying.services, timeout=30)
    moved = await Booking.get(booking.id)
    assert moved is not None and moved.status == BookingStatus.CONFIRMED and moved.rebooking is None
    assert moved.reference == booking.reference and moved.tickets == booking.tickets  # same PNR and numbers
    difference = max(0, booking.segments[0].fare_per_passenger - target.fares[segment_cabin(booking)]) * 2
    assert moved.price == booking.price  # nothing more to pay; a cheaper flight's difference goes back
    assert moved.payment.amount_paid == booking.payment.amount_paid - difference
    segment = moved.segments[0]
    assert segment.flight.flight_id == target_id and segment.flight.cabin == booking.segments[0].flight.cabin
    assert len(segment.seats) == 2 and all(seat in moved_message.plain_text() for seat in segment.seats)
    holds = await SeatHold.find({"booking_id": str(booking.id)}).to_list()
    assert {(h.flight_id, h.seat, h.status) for h in holds} == {(target_id, s, HoldStatus.BOOKED)
                                                                for s in segment.seats}  # the old seats are free
    assert sum("is moved to" in m.plain_text() for m in ada.messages()) == 1
    assert sum(1 for m in ada.messages() if m.document is not None) == documents + 2  # the re-drawn e-ticket
    assert any(target.flight_number in (m.subject or "") for m in paying.sendgrid.messages_to("ada@example.com"))
    assert [r["amount"] for r in paying.stripe.refunds.values()] == ([difference] if difference else [])
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    await admin.send(f"/booking {booking.reference}")
    history = await admin.wait_for("History:")
    assert f"{flight.flight_number} → {target.flight_number}" in history.plain_text()
    await admin.send("/stats")
    assert "Travellers moved to another flight: 1" in (await admin.wait_for("Disruptions")).plain_text()


async def test_refund_in_full_and_only_for_a_disrupted_flight(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(4002, first_name="Ada")
    grace = paying.telegram.traveller(4003, first_name="Grace")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    calm = await paying.paid_booking(grace, ["Grace Hopper"])
    await grace.press_data(f"*:rbr:{calm.id}", 1)  # a forged Refund for a flight that flies as planned
    await grace.wait_for("flies as planned")
    still = await Booking.get(calm.id)
    assert still is not None and still.status == BookingStatus.CONFIRMED

    await _cancel(paying, await _flight_of(booking))
    await drain_outbox(paying.services)
    alert = _choice(ada)
    for _ in range(5):
        await ada.press("Refund in full", alert)
    done = await ada.wait_for("is cancelled and its seats are released")
    assert "back to your card" in done.plain_text()
    refunded = await Booking.get(booking.id)
    assert refunded is not None and refunded.status == BookingStatus.CANCELLED
    refunds = list(paying.stripe.refunds.values())
    assert len(refunds) == 1 and refunds[0]["amount"] == booking.payment.amount_paid  # in full, once
    await drain_outbox(paying.services)


async def test_unanswered_the_booking_is_refunded_six_hours_before(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(4004, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    flight = await _flight_of(booking)
    await _cancel(paying, flight)
    assert (await paying.services.sweeper.run()).disruption_refunds == 0  # days before: the choice stands
    paying.bot.clock.advance(as_utc(flight.departs_at) - paying.bot.clock.now() - timedelta(hours=5))
    assert (await paying.services.sweeper.run()).disruption_refunds == 1
    assert (await paying.services.sweeper.run()).disruption_refunds == 0
    refunded = await Booking.get(booking.id)
    assert refunded is not None and refunded.status == BookingStatus.CANCELLED
    assert [r["amount"] for r in paying.stripe.refunds.values()] == [booking.payment.amount_paid]
    await drain_outbox(paying.services)
    assert any("no new flight was chosen in time" in m.plain_text() for m in ada.messages())


async def test_one_hundred_travellers_race_for_forty_seats(paying: PayingBot) -> None:
    clock = paying.bot.clock
    day = (clock.now() + timedelta(days=9)).date().isoformat()
    flights = sorted(await Flight.find({"route_key": f"LHR-JFK-{day}", "source": "local"}).to_list(),
                     key=lambda f: as_utc(f.departs_at))
    cancelled, next_one = flights[0], flights[1]
    crowd = await confirmed_crowd(cancelled, 100, cabin_only="economy")
    # the next flight has 40 free economy seats: the rest are held by other travellers' drafts
    aircraft = paying.services.reference.aircraft[next_one.aircraft]
    economy = aircraft.cabin("economy")
    assert economy is not None
    codes = economy.seat_codes()
    others = [SeatHold(flight_id=str(next_one.id), seat=seat, seat_key=f"{next_one.id}:{seat}", cabin="economy",
                       status=HoldStatus.HELD, holder=f"chat:{900_000 + i}", token="other",
                       expires_ms=clock.now_ms() + 10 * 3_600_000) for i, seat in enumerate(codes[40:])]
    await SeatHold.insert_many(others)
    paying.services.seats.counts.forget(str(next_one.id))  # written around the service: its counts must re-read
    await _cancel(paying, cancelled)
    rebooking = paying.services.rebooking

    async def move(booking: Booking) -> bool:
        try:
            await rebooking.rebook(booking, str(next_one.id))
        except FlyOError:
            return False
        return True

    results = await asyncio.gather(*(move(b) for b in crowd))
    assert sum(results) == 40
    moved = await Booking.find({"segments": {"$elemMatch": {"flight.flight_id": str(next_one.id)}}}).to_list()
    assert len(moved) == 40
    seats = [s for b in moved for s in b.segments[0].seats]
    assert len(seats) == len(set(seats)) == 40 and set(seats) == set(codes[:40])
    left = await Booking.find({"segments": {"$elemMatch": {"flight.flight_id": str(cancelled.id)}},
                               "status": "CONFIRMED"}).to_list()
    assert len(left) == 60 and all(b.rebooking is None for b in left)  # the rest keep their choice (refund, others)
    again = await rebooking.options(cancelled, "economy")
    assert all(o.flight.id != next_one.id for o in again)  # the full flight is no longer offered


async def test_a_crash_mid_move_is_finished_or_undone_by_the_sweep(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(4005, first_name="Ada")
    grace = paying.telegram.traveller(4006, first_name="Grace")
    first = await paying.paid_booking(ada, ["Ada Lovelace"])
    second = await paying.paid_booking(grace, ["Grace Hopper"])
    flight = await _flight_of(first)
    await _cancel(paying, flight)
    rebooking = paying.services.rebooking
    [option, *_rest] = await rebooking.options(flight, first.segments[0].flight.cabin)
    target = str(option.flight.id)

    class Crash(Exception):
        pass

    real_finish, real_hold = rebooking._finish, rebooking._hold

    async def die_before_switch(booking: Booking, claim: Any) -> Booking:
        raise Crash("killed after the seats were chosen")

    rebooking._finish = die_before_switch  # type: ignore[method-assign]
    with contextlib.suppress(Crash):
        await rebooking.rebook(first, target)
    rebooking._finish = real_finish  # type: ignore[method-assign]

    async def die_while_holding(booking: Booking, *args: Any) -> list[str]:
        await real_hold(booking, *args)
        raise Crash("killed between the holds and writing them down")

    rebooking._hold = die_while_holding  # type: ignore[method-assign]
    with contextlib.suppress(Crash):
        await rebooking.rebook(second, target)
    rebooking._hold = real_hold  # type: ignore[method-assign]
    with_claims = await Booking.find({"rebooking": {"$ne": None}}).count()
    assert with_claims == 2
    try:
        await rebooking.rebook(await Booking.get(first.id), target)  # type: ignore[arg-type]
    except RebookRefused as exc:
        assert "being moved already" in str(exc)
    paying.bot.clock.advance(timedelta(minutes=10))  # past the resume delay, and past step 2's hold expiry
    report = await paying.services.sweeper.run()
    assert report.rebookings_finished == 2
    finished = await Booking.get(first.id)
    undone = await Booking.get(second.id)
    assert finished is not None and finished.rebooking is None and finished.segments[0].flight.flight_id == target
    assert undone is not None and undone.rebooking is None and undone.segments[0].flight.flight_id == str(flight.id)
    assert await SeatHold.find({"booking_id": str(second.id), "flight_id": target}).count() == 0
    await paying.services.rebooking.rebook(undone, target)  # the undone one can choose again


async def test_who_loses_the_last_seat_is_offered_what_is_still_open(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(4007, first_name="Ada")
    grace = paying.telegram.traveller(4008, first_name="Grace")
    first = await paying.paid_booking(ada, ["Ada Lovelace"])
    second = await paying.paid_booking(grace, ["Grace Hopper"])
    flight = await _flight_of(first)
    [option, *_rest] = await paying.services.rebooking.options(flight, "economy")
    target = option.flight
    economy = paying.services.reference.aircraft[target.aircraft].cabin("economy")
    assert economy is not None
    taken = await paying.services.seats.taken_seats(str(target.id))
    free = [seat for seat in economy.seat_codes() if seat not in taken]
    await SeatHold.insert_many([SeatHold(  # all but one seat held by other travellers' drafts
        flight_id=str(target.id), seat=seat, seat_key=f"{target.id}:{seat}", cabin="economy", status=HoldStatus.HELD,
        holder=f"chat:{910_000 + i}", token="other", expires_ms=paying.bot.clock.now_ms() + 10 * 3_600_000)
        for i, seat in enumerate(free[1:])])
    paying.services.seats.counts.forget(str(target.id))
    await _cancel(paying, flight)
    await drain_outbox(paying.services)
    label = next(b.text for row in _choice(ada).buttons for b in row if target.flight_number in b.text)
    await ada.press(label, _choice(ada))
    await ada.wait_for("is moved to")
    await grace.press(label, _choice(grace))
    lost = await grace.wait_for("Still open")
    assert "no 1 free seat(s) left" in lost.plain_text()
    labels = lost.button_labels()
    assert labels[-1] == "💷 Refund in full" and not any(target.flight_number in text and label == text
                                                        for text in labels)
    await grace.press("Refund in full", lost)
    await grace.wait_for("is cancelled and its seats are released")
    refunded = await Booking.get(second.id)
    assert refunded is not None and refunded.status == BookingStatus.CANCELLED, refunded


async def test_a_delay_that_breaks_a_connection_offers_later_connections(paying: PayingBot) -> None:
    """LHR → SYD with a change: the first flight's delay leaves less than the connecting airport's minimum time,
    so the traveller is told the connection is missed and offered later onward flights (after the delayed arrival
    plus that time) or a refund; choosing one moves only the onward flight."""
    clock = paying.bot.clock
    day = (clock.now() + timedelta(days=10)).date()
    found = await paying.services.connections.find(["LHR"], ["SYD"], day, 1)
    trip = next(o for o in found.options if len(o.legs) == 2)
    first, onward = trip.legs[0].flight, trip.legs[1].flight
    traveller = paying.telegram.traveller(4010, first_name="Ada")
    booking = await confirmed_itinerary([first, onward], 4010, "CONN01")
    layover = as_utc(onward.departs_at) - as_utc(first.arrives_at)
    delay = layover + timedelta(minutes=10)  # lands after the onward flight has left
    shift = int(delay.total_seconds() * 1000)
    await paying.services.flight_status.record(StatusUpdate(
        key="feed:late", flight=first, kind=FlightStatusKind.DELAYED, at_ms=clock.now_ms(), source="feed",
        departs_ms=int(as_utc(first.departs_at).timestamp() * 1000) + shift,
        arrives_ms=int(as_utc(first.arrives_at).timestamp() * 1000) + shift))
    await drain_outbox(paying.services)
    alert = next(m for m in traveller.messages() if "is delayed" in m.plain_text())
    assert f"you miss your connection {onward.flight_number}" in alert.plain_text()
    options = [b for row in alert.buttons for b in row if b.callback_data.startswith("*:rbk:")]
    assert options and alert.button_labels()[-1] == "💷 Refund in full"
    ready = as_utc(first.arrives_at) + delay + timedelta(minutes=paying.services.rebooking.mct.at(onward.origin))
    for button in options:
        later = await Flight.get(button.callback_data.split(".")[-1])
        assert later is not None and (later.origin, later.destination) == (onward.origin, onward.destination)
        assert as_utc(later.departs_at) >= ready  # catchable after the delayed arrival
    await traveller.press(options[0].text, alert)
    await traveller.wait_for("is moved to")
    moved = await Booking.get(booking.id)
    assert moved is not None and moved.segments[0].flight.flight_id == str(first.id)  # the delayed one stays
    assert moved.segments[1].flight.flight_id == options[0].callback_data.split(".")[-1]


async def test_a_cheaper_flight_refunds_the_difference_once_and_a_later_cancellation_the_rest(
        paying: PayingBot) -> None:
    ada = paying.telegram.traveller(4011, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace", "Charles Babbage"])
    flight = await _flight_of(booking)
    [option, *_rest] = await paying.services.rebooking.options(flight, "economy", 2)
    cheaper = booking.segments[0].fare_per_passenger - 4000
    await collection(Flight).update_one({"_id": option.flight.id}, {"$set": {"fares.economy": cheaper}})
    await _cancel(paying, flight)
    await drain_outbox(paying.services)
    alert = _choice(ada)
    label = next(b.text for row in alert.buttons for b in row if option.flight.flight_number in b.text)
    for _ in range(3):
        await ada.press(label, alert)
    moved_message = await ada.wait_for("is moved to")
    assert "goes back to your card" in moved_message.plain_text()
    moved = await Booking.get(booking.id)
    assert moved is not None and moved.segments[0].fare_per_passenger == cheaper
    assert moved.payment.amount_paid == booking.payment.amount_paid - 2 * 4000
    assert [r["amount"] for r in paying.stripe.refunds.values()] == [2 * 4000]  # once
    outcome = await paying.services.payments.cancel(moved, "test", "admin:1", refund=None)
    assert outcome.refunded == booking.payment.amount_paid - 2 * 4000  # the rest, never more than was paid
    await drain_outbox(paying.services)


async def test_a_fare_difference_stripe_refused_is_refunded_by_the_sweep_once(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(4012, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    flight = await _flight_of(booking)
    [option, *_rest] = await paying.services.rebooking.options(flight, "economy")
    cheaper = booking.segments[0].fare_per_passenger - 2500
    await collection(Flight).update_one({"_id": option.flight.id}, {"$set": {"fares.economy": cheaper}})
    await _cancel(paying, flight)
    paying.stripe.fail_next(500, times=5, path="/v1/refunds")  # Stripe is down when the move is made
    moved = await paying.services.rebooking.rebook(booking, str(option.flight.id))
    assert moved.segments[0].flight.flight_id == str(option.flight.id)
    assert moved.refund_due is not None and moved.refund_due.amount == 2500  # owed, written with the move
    assert moved.payment.amount_paid == booking.payment.amount_paid and paying.stripe.refunds == {}
    paying.stripe._faults.clear()  # Stripe is back
    assert (await paying.services.sweeper.run()).rebookings_finished == 1
    assert (await paying.services.sweeper.run()).rebookings_finished == 0
    settled = await Booking.get(booking.id)
    assert settled is not None and settled.refund_due is None
    assert settled.payment.amount_paid == booking.payment.amount_paid - 2500  # lowered once
    assert [r["amount"] for r in paying.stripe.refunds.values()] == [2500]
    await drain_outbox(paying.services)


async def test_a_cancelled_first_flight_of_a_connection_offers_only_flights_that_keep_it(paying: PayingBot) -> None:
    clock = paying.bot.clock
    day = (clock.now() + timedelta(days=10)).date()
    found = await paying.services.connections.find(["LHR"], ["SYD"], day, 1)
    trip = next(o for o in found.options if len(o.legs) == 2)
    first, onward = trip.legs[0].flight, trip.legs[1].flight
    traveller = paying.telegram.traveller(4013, first_name="Ada")
    booking = await confirmed_itinerary([first, onward], 4013, "CONN02")
    await _cancel(paying, first)
    await drain_outbox(paying.services)
    alert = _choice(traveller)
    mct = timedelta(minutes=paying.services.rebooking.mct.at(onward.origin))
    offered = [b.callback_data.split(".")[-1] for row in alert.buttons for b in row
               if b.callback_data.startswith("*:rbk:")]
    for flight_id in offered:
        replacement = await Flight.get(flight_id)
        assert replacement is not None
        assert as_utc(replacement.arrives_at) + mct <= as_utc(onward.departs_at)  # the connection still holds
    every = await paying.services.rebooking.options(first, "economy")
    breaking = [o.flight for o in every if as_utc(o.flight.arrives_at) + mct > as_utc(onward.departs_at)]
    assert breaking, "the route has later flights that would break the connection: the filter is what is tested"
    try:
        await paying.services.rebooking.rebook(booking, str(breaking[0].id))  # a forged button
    except RebookRefused as exc:
        assert "would break your connection" in str(exc)
    else:
        raise AssertionError("a flight that breaks the connection was accepted")
    kept = await Booking.get(booking.id)
    assert kept is not None and kept.segments[0].flight.flight_id == str(first.id) and kept.rebooking is None
