"""Itineraries end to end: a return trip (and a connection) is one booking, one payment, one confirmation."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from models import Booking, BookingStatus, SeatHold
from models.aircraft import AircraftType
from models.booking import Leg
from models.flight import Flight
from models.seat import BOOKED_FOREVER_MS, HoldStatus, seat_key
from repos.base import collection
from services import fare_rules
from tests.flows import (
    confirm_cancel,
    drain_outbox,
    eventually,
    fill_passenger,
    guided_to_trip_question,
    seat_each_flight,
    travel_day,
)
from tests.invariants import assert_seat_and_money_invariants
from tests.paying import PayingBot


async def test_guided_return_trip_for_two_is_one_booking_one_payment_one_confirmation(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(14001, first_name="Ada")
    day = travel_day(paying.bot.clock, 12)
    await guided_to_trip_question(ada, day)
    await ada.press("Return")
    back = await ada.wait_for("When do you fly back")
    week_later = day + timedelta(days=7)
    assert any("a week later" in label for label in back.button_labels())
    assert "·" in back.button_labels()  # days before the outbound can't be tapped
    await ada.press("a week later")
    await ada.wait_for("How many passengers")
    await ada.press("2")
    outbound = await ada.wait_for("Outbound · London LHR → New York JFK")
    assert "Prices are totals for all 2 passengers" in outbound.plain_text()
    await ada.press("1. Economy")
    inbound = await ada.wait_for("Return · New York JFK → London LHR")
    assert "Your outbound:" in inbound.plain_text()
    await ada.press("1. Business")  # mixed cabins: economy out, business back
    await seat_each_flight(ada, 2)
    await ada.wait_for("Passenger 1 of 2")
    await fill_passenger(ada, 0, "Ada Lovelace", "1985-12-10", "ada@example.com")
    await ada.wait_for("Passenger 2 of 2")
    await fill_passenger(ada, 1, "Charles Babbage", "1991-12-26")
    review = (await ada.wait_for("Please review your booking")).plain_text()
    assert "Outbound" in review and "Return" in review and "Business" in review and "Economy" in review
    await ada.press("Confirm and pay")
    await ada.wait_for("Pay")
    booking = await Booking.find_one(Booking.user_id == 14001)
    assert booking is not None and booking.status == BookingStatus.PENDING
    assert [s.leg for s in booking.segments] == [Leg.OUTBOUND, Leg.RETURN]
    out, home = booking.segments
    assert (out.flight.origin, out.flight.destination, out.flight.cabin) == ("LHR", "JFK", "economy")
    assert (home.flight.origin, home.flight.destination, home.flight.cabin) == ("JFK", "LHR", "business")
    assert home.flight.departs_at.date() in {week_later, week_later + timedelta(days=1)}
    assert booking.price.fare_per_passenger == out.fare_per_passenger + home.fare_per_passenger
    assert booking.price.total == booking.price.fare_per_passenger * 2
    for segment in booking.segments:  # every seat of both flights held for the booking
        holds = await SeatHold.find(SeatHold.booking_id == str(booking.id),
                                    SeatHold.flight_id == segment.flight.flight_id).to_list()
        assert sorted(h.seat for h in holds) == sorted(segment.seats) and len(segment.seats) == 2
    session_id = booking.payment.session_id
    assert session_id is not None
    lines = paying.stripe.line_items[session_id]  # one line item per passenger per flight
    assert len(lines) == 4
    assert sorted(int(li["amount_total"]) for li in lines) == sorted(
        [out.fare_per_passenger] * 2 + [home.fare_per_passenger] * 2)
    assert sum(1 for li in lines if "Ada Lovelace" in str(li["description"])) == 2
    status, answer = await paying.post_event(paying.completed_event(session_id))
    assert (status, answer["outcome"]) == (200, "confirmed")
    confirmed = (await ada.wait_for("is confirmed")).plain_text()
    assert "Outbound:" in confirmed and "Return:" in confirmed
    assert out.flight.flight_number in confirmed and home.flight.flight_number in confirmed
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    booked = SeatHold.find(SeatHold.booking_id == str(booking.id), SeatHold.status == HoldStatus.BOOKED)
    assert await booked.count() == 4
    await drain_outbox(paying.services)
    [mail] = [m for m in paying.sendgrid.messages_to("ada@example.com") if "confirmed" in (m.subject or "")]
    assert mail.text is not None and "Outbound:" in mail.text and "Return:" in mail.text
    assert out.flight.flight_number in mail.text and home.flight.flight_number in mail.text
    assert "(JFK)" in mail.text and "(LHR)" in mail.text
    username = paying.services.reference.bot_username
    assert username and f"https://t.me/{username}" in mail.text  # manage it in the chat: one tap away
    await assert_seat_and_money_invariants()


async def _return_trip_with_link(t: Any, out: date, back: date) -> Booking:
    await t.send(f"LHR JFK {out.isoformat()} {back.isoformat()} 1")
    await t.wait_for("Outbound ·")
    await t.press("1. Economy")
    await t.wait_for("Return ·")
    await t.press("1. Economy")
    await seat_each_flight(t, 2)
    await t.wait_for("Passenger 1 of 1")
    await fill_passenger(t, 0, "Ada Lovelace", "1985-12-10", "ada@example.com")
    await t.wait_for("Please review your booking")
    await t.press("Confirm and pay")
    await t.wait_for("Pay")
    booking = await Booking.find_one(Booking.user_id == t.user_id)
    assert booking is not None and booking.payment.session_id
    return booking


async def _paid_return_trip(paying: PayingBot, t: Any, out: date, back: date) -> Booking:
    booking = await _return_trip_with_link(t, out, back)
    assert booking.payment.session_id
    await paying.post_event(paying.completed_event(booking.payment.session_id))
    await t.wait_for("is confirmed")
    confirmed = await Booking.get(booking.id)
    assert confirmed is not None
    return confirmed


async def test_cancelling_a_paid_return_trip_refunds_each_flights_share_minus_its_fee_and_frees_both_flights(
        paying: PayingBot) -> None:
    """Both ways economy (the Standard fare), cancelled days ahead: each flight's share of the payment comes back
    minus the Standard fee on that share (services.fare_rules)."""
    ada = paying.telegram.traveller(14002)
    out = travel_day(paying.bot.clock, 9)
    booking = await _paid_return_trip(paying, ada, out, out + timedelta(days=4))
    await ada.send(f"/cancel {booking.reference}")
    await confirm_cancel(ada)
    await ada.wait_for("cancelled")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    [refund] = paying.stripe.refunds.values()
    shares = fare_rules.shares(stored)
    assert len(shares) == 2 and sum(shares) == booking.price.total
    assert {s.fare_rule for s in stored.segments} == {fare_rules.STANDARD}
    assert int(refund["amount"]) == sum(share - fare_rules.fee_of(share) for share in shares)
    assert await SeatHold.find(SeatHold.booking_id == str(booking.id)).count() == 0


async def test_a_lost_return_seat_is_replaced_on_the_return_flight_when_the_payment_lands(paying: PayingBot) -> None:
    """The return's seat hold vanished (a crash, an operator) and someone took the seat before Stripe's webhook:
    the paid traveller is re-seated on the same flight and told; the outbound seat is untouched."""
    ada = paying.telegram.traveller(14005)
    out = travel_day(paying.bot.clock, 7)
    booking = await _return_trip_with_link(ada, out, out + timedelta(days=2))
    home = booking.segments[1]
    lost = home.seats[0]
    await collection(SeatHold).delete_one({"seat_key": seat_key(home.flight.flight_id, lost)})
    await paying.services.seats.hold(home.flight.flight_id, lost, "chat:999", home.flight.cabin)
    assert booking.payment.session_id
    await paying.post_event(paying.completed_event(booking.payment.session_id))
    told = (await ada.wait_for("is confirmed")).plain_text()
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    assert stored.segments[0].seats == booking.segments[0].seats and not stored.segments[0].seat_changes
    new_seat = stored.segments[1].seats[0]
    assert new_seat != lost and stored.segments[1].seat_changes == {lost: new_seat}
    assert f"{home.flight.flight_number} {lost} → {new_seat}" in told


async def test_each_way_of_a_return_trip_gets_its_own_reminder_a_day_before(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(14004)
    clock = paying.bot.clock
    out = travel_day(clock, 6)
    booking = await _paid_return_trip(paying, ada, out, out + timedelta(days=3))
    sweeper = paying.services.sweeper
    assert sweeper is not None and booking.return_departs_ms is not None
    outbound, home = booking.segments[0].flight, booking.segments[1].flight
    clock.advance(timedelta(milliseconds=booking.departs_ms - clock.now_ms()) - timedelta(hours=23))
    await asyncio.gather(sweeper.run(), sweeper.run())  # two replicas: still one reminder
    first = (await ada.wait_for("Reminder:")).plain_text()
    assert outbound.flight_number in first and home.flight_number not in first
    clock.advance(timedelta(milliseconds=booking.return_departs_ms - clock.now_ms()) - timedelta(hours=23))
    await asyncio.gather(sweeper.run(), sweeper.run())
    second = (await ada.wait_for("Reminder:")).plain_text()
    assert home.flight_number in second and "JFK → LHR" in second
    await sweeper.run()
    await drain_outbox(paying.services)
    assert sum("Reminder:" in m.plain_text() for m in ada.messages()) == 2


async def _fill_cabin_but(flight: Flight, cabin: str, keep: int) -> list[str]:
    """Hold every seat of the cabin except `keep` (returned) for another traveller's unpaid booking."""
    aircraft = await AircraftType.find_one(AircraftType.code == flight.aircraft)
    layout = aircraft.cabin(cabin) if aircraft else None
    assert layout is not None
    seats = layout.seat_codes()
    free, taken = seats[:keep], seats[keep:]
    await collection(SeatHold).insert_many([
        {"flight_id": str(flight.id), "seat": s, "seat_key": seat_key(str(flight.id), s), "cabin": cabin,
         "status": HoldStatus.HELD, "holder": "booking:other", "token": "t", "expires_ms": BOOKED_FOREVER_MS,
         "booking_id": "other"} for s in taken])
    return free


async def test_fifty_travellers_race_for_the_last_two_seats_of_the_return(paying: PayingBot) -> None:
    """50 travellers in 25 parties of 2, outbound wide open, the return's last 2 economy seats: exactly one party
    gets both.

    The losers keep their outbound holds while they look for another return (documented flow); those lapse
    after HOLD_MINUTES and the sweep leaves no chat hold behind.
    """
    clock = paying.bot.clock
    day = travel_day(clock, 15)
    back = day + timedelta(days=5)
    returns = await Flight.find(Flight.origin == "JFK", Flight.destination == "LHR",
                                Flight.departure_date == back.isoformat()).sort("departs_at").to_list()
    assert returns, "the inventory has no JFK→LHR flight on the return day"
    last_two = await _fill_cabin_but(returns[0], "economy", 2)
    for other in returns[1:]:  # only one return flight has economy seats left
        await _fill_cabin_but(other, "economy", 0)
    parties = [paying.telegram.traveller(14100 + i) for i in range(25)]

    async def after_tap(t: Any, shown: list[str], refused: str) -> str:
        """"next" once a message containing every text of `shown` is in the chat; "refused" when the tap was
        answered with `refused` (a notice, nothing redrawn)."""
        async def seen() -> str | None:
            if any(refused in str(a.get("text", "")) for a in t.callback_answers):
                return "refused"
            return "next" if any(all(x in m.plain_text() for x in shown) for m in t.messages()) else None
        outcome: str = await eventually(seen, timeout=60)
        return outcome

    async def race(t: Any) -> str:
        await t.send(f"/search LHR JFK {day.isoformat()} {back.isoformat()} 2")
        await t.wait_for("Outbound ·", timeout=60)
        await t.press("1. Economy")
        await t.wait_for("Return ·", timeout=60)
        await t.press("1. Economy")
        if await after_tap(t, ["Flight 1 of 2"], "left on") == "refused":
            return "lost"  # the last two were held by another party between the list and the tap
        await t.wait_for("Flight 1 of 2", timeout=60)
        await t.press("Pick for me")
        await t.wait_for(lambda m: "All seats picked" in m.plain_text(), timeout=60)  # the outbound has room
        await t.press("Continue")
        await t.wait_for("Flight 2 of 2", timeout=60)
        await t.press("Pick for me")
        seated = await after_tap(t, ["Flight 2 of 2", "All seats picked"], "Not enough free seats")
        return "won" if seated == "next" else "lost"

    outcomes = await asyncio.gather(*(race(t) for t in parties))
    assert outcomes.count("won") == 1, outcomes
    holds = await SeatHold.find({"flight_id": str(returns[0].id), "seat": {"$in": last_two}}).to_list()
    assert len({h.holder for h in holds}) == 1 and sorted(h.seat for h in holds) == sorted(last_two)
    clock.advance(timedelta(minutes=paying.bot.settings.HOLD_MINUTES + 1))
    assert paying.services.sweeper is not None
    await paying.services.sweeper.run()
    left = await SeatHold.find({"holder": {"$regex": "^chat:"}}).count()
    assert left == 0, f"{left} chat holds outlived their hold period and the sweep"
    await assert_seat_and_money_invariants()


async def test_an_old_one_flight_booking_document_loads_lists_and_cancels(paying: PayingBot) -> None:
    """A booking written before itineraries (`flight`, `seats` at the top level) still works everywhere."""
    ada = paying.telegram.traveller(14003)
    flight = await Flight.find_one(Flight.origin == "LHR", Flight.destination == "JFK",
                                   Flight.departure_date == travel_day(paying.bot.clock, 8).isoformat())
    assert flight is not None
    now = paying.bot.clock.now()
    booking_id = (await collection(Booking).insert_one({
        "reference": "OLD234", "user_id": 14003, "chat_id": 14003, "status": "PENDING",
        "flight": {"flight_id": str(flight.id), "flight_number": flight.flight_number, "origin": "LHR",
                   "destination": "JFK", "departs_at": flight.departs_at, "arrives_at": flight.arrives_at,
                   "aircraft": flight.aircraft, "cabin": "economy"},
        "seats": ["30A"], "passengers": [{"full_name": "Ada Lovelace", "birth_date": "1985-12-10"}],
        "email": "ada@example.com",
        "price": {"currency": flight.currency, "fare_per_passenger": 50000, "passengers": 1, "total": 50000},
        "created_at": now, "updated_ms": 0, "hold_expires_ms": paying.bot.clock.now_ms() + 600_000,
        "departs_ms": int(flight.departs_at.timestamp() * 1000), "seat_changes": {},
    })).inserted_id
    await collection(SeatHold).insert_one({
        "flight_id": str(flight.id), "seat": "30A", "seat_key": seat_key(str(flight.id), "30A"), "cabin": "economy",
        "status": HoldStatus.HELD, "holder": f"booking:{booking_id}", "token": "t",
        "expires_ms": paying.bot.clock.now_ms() + 600_000, "booking_id": str(booking_id)})
    loaded = await Booking.get(booking_id)
    assert loaded is not None and [s.seats for s in loaded.segments] == [["30A"]]
    assert loaded.segments[0].fare_per_passenger == 50000 and loaded.first_flight.flight_number == flight.flight_number
    await ada.send("/mybookings")
    await ada.wait_for("Your bookings")
    listed = (await ada.wait_for("OLD234")).plain_text()  # its card
    assert f"{flight.flight_number} LHR → JFK" in listed and "Awaiting payment" in listed
    await ada.send("/cancel OLD234")
    await confirm_cancel(ada)
    await ada.wait_for("is cancelled")
    stored = await Booking.get(booking_id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    assert await SeatHold.find(SeatHold.booking_id == str(booking_id)).count() == 0
