"""Property-based: random interleavings of holds, bookings, payments, webhooks, sweeps and refunds by several
travellers, with the clock moved around, never leave a seat or a payment in a state that must not exist.

Hypothesis draws a program (a list of operations, some run two at a time with asyncio.gather so their
database round trips interleave); the program runs on the real services against the test database and
a loopback fake Stripe, and the invariants are checked after every step.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.clock import Clock
from core.config import Settings
from core.database import Database
from core.errors import FlyOError
from models import Booking, BookingStatus, SeatHold
from models.booking import Passenger
from models.flight import Flight
from models.ops import Notification, PaymentAttempt, WebhookEvent
from services.bookings import BookingRules, BookingService, NewBooking, NewSegment
from services.flights import FlightSearch
from services.mailer import OutboxMailer
from services.notifications import NotificationService
from services.payment_events import PaymentEvents
from services.payments import PaymentService
from services.reference import ReferenceData
from services.seats import SeatService, chat_holder
from services.stripe_gateway import StripeGateway
from services.sweeps import Sweeper
from tests.fakes.stripe import FakeStripe, build_event
from tests.invariants import assert_seat_and_money_invariants

USERS = 3
SEATS = ["1A", "1B", "1C", "1D", "2A", "2B"]  # few seats, so travellers collide
ADVANCES = [2, 16, 35, 95]  # minutes: inside a hold, past a hold, past the payment window, past the grace


@dataclass
class World:
    clock: Clock
    seats: SeatService
    bookings: BookingService
    payments: PaymentService
    events: PaymentEvents
    sweeper: Sweeper
    stripe: FakeStripe
    flight: Flight
    cabin: str
    back: Flight  # a return flight: some bookings are two-flight itineraries
    drafts: dict[int, int] = field(default_factory=dict)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    pending_events: list[dict[str, Any]] = field(default_factory=list)
    advanced_minutes: int = 0


@pytest.fixture
async def world(inventory_db: Database, tmp_path: Path) -> AsyncIterator[World]:
    async with FakeStripe() as stripe:
        config = Settings(STRIPE_SECRET_KEY="sk_test_props", STRIPE_WEBHOOK_SECRET="whsec_props",  # type: ignore[arg-type]
                          STRIPE_API_URL=stripe.url, DATA_DIR=tmp_path)
        clock = Clock()
        seats = SeatService(clock, hold_minutes=15)
        bookings = BookingService(clock, seats, BookingRules(max_pending_per_user=2))
        notifications = NotificationService(clock, OutboxMailer(tmp_path / "outbox", ""), frozenset({1}))
        gateway = StripeGateway("sk_test_props", stripe.url)
        payments = PaymentService(clock, bookings, seats, notifications, gateway, ReferenceData(),
                                  public_url=config.public_url, max_attempts=config.MAX_PAYMENT_ATTEMPTS,
                                  window_minutes=config.PAYMENT_WINDOW_MINUTES)
        flights = FlightSearch(seats)
        events = PaymentEvents(payments, flights)
        sweeper = Sweeper(clock, seats, bookings, notifications, payments, None, events)
        day = clock.now().date() + timedelta(days=6)
        found = await flights.search(["LHR"], ["JFK"], day, 1)
        flight = found.options[0].flight
        cabin = next(iter(flight.fares))
        back = (await flights.search(["JFK"], ["LHR"], day + timedelta(days=3), 1)).options[0].flight
        yield World(clock, seats, bookings, payments, events, sweeper, stripe, flight, cabin, back)
        await gateway.close()


async def _reset(w: World) -> None:
    for model in (Booking, SeatHold, Notification, WebhookEvent, PaymentAttempt):
        await model.get_pymongo_collection().delete_many({})
    w.stripe.sessions.clear()
    w.stripe.refunds.clear()
    w.clock._offset = timedelta(0)
    w.drafts.clear()
    w.delivered.clear()
    w.pending_events.clear()
    w.advanced_minutes = 0


# ---- operations ---------------------------------------------------------------------------------------------
def _flight(w: World, seat: int) -> Flight:
    """Seat numbers 0–3 are on the outbound flight, 4–7 on the return."""
    return w.flight if seat % 8 < 4 else w.back


async def op_hold(w: World, user: int, seat: int) -> None:
    with contextlib.suppress(FlyOError):
        await w.seats.hold(str(_flight(w, seat).id), SEATS[seat % len(SEATS)], chat_holder(user), w.cabin)


async def op_release(w: World, user: int, seat: int) -> None:
    await w.seats.release(str(_flight(w, seat).id), SEATS[seat % len(SEATS)], chat_holder(user))


async def _mine(w: World, flight: Flight, user: int) -> list[str]:
    state = await w.seats.taken(str(flight.id), chat_holder(user))
    return sorted(s for s, v in state.items() if v == "mine")[:2]


async def op_book(w: World, user: int, arg: int) -> None:
    """Hold one or two seats from `arg` on (some may be taken), then book what this traveller holds and pay-link
    it; an odd `arg` books a return trip (as many seats back as out)."""
    for seat in range(arg, arg + 1 + arg % 2):
        await op_hold(w, user, seat % 4)
        if arg % 2:
            await op_hold(w, user, 4 + seat % 4)
    mine = await _mine(w, w.flight, user)
    back = await _mine(w, w.back, user) if arg % 2 else []
    count = min(len(mine), len(back)) if arg % 2 else len(mine)
    if not count:
        return
    w.drafts[user] = w.drafts.get(user, 0) + 1
    people = [Passenger(full_name=f"Traveller {user}", birth_date=date(1980, 1, 1)) for _ in range(count)]
    segments = [NewSegment(w.flight, w.cabin, mine[:count], w.flight.fares[w.cabin])]
    if arg % 2:
        segments.append(NewSegment(w.back, w.cabin, back[:count], w.back.fares[w.cabin], leg=1))
    new = NewBooking(user_id=user, chat_id=user, segments=segments, passengers=people,
                     email=f"u{user}@example.com", draft_key=f"{user}:{w.drafts[user]}", currency=w.flight.currency)
    try:
        booking = await w.bookings.create(new, chat_holder(user))
        await w.payments.ensure_link(booking)
    except FlyOError:
        pass


async def _booking(w: World, user: int, index: int) -> Booking | None:
    mine = await Booking.find(Booking.user_id == user).sort("created_at").to_list()
    return mine[index % len(mine)] if mine else None


async def op_pay(w: World, user: int, index: int) -> None:
    """The traveller pays the open link; Stripe's webhook is queued (delivered by a later step, or never)."""
    booking = await _booking(w, user, -1 - index % 2)  # mostly the newest
    if booking is None or not booking.payment.session_id:
        return
    session = w.stripe.sessions.get(booking.payment.session_id)
    if session is None or session["status"] != "open":
        return
    paid = w.stripe.complete_session(booking.payment.session_id)
    w.pending_events.append(build_event("checkout.session.completed", paid))


async def op_pay_now(w: World, user: int, index: int) -> None:
    """Pay and have the webhook delivered at once (the usual case)."""
    await op_pay(w, user, index)
    if w.pending_events:
        await op_deliver(w, user, len(w.pending_events) - 1)


async def _stripe_delivers(w: World, event: dict[str, Any]) -> None:
    """What production does: the route stores the event, then the worker applies what is due."""
    await w.events.inbox.receive(event)
    await w.events.inbox.process_due()


async def op_deliver(w: World, _user: int, index: int) -> None:
    if w.pending_events:
        event = w.pending_events.pop(index % len(w.pending_events))
        await _stripe_delivers(w, event)
        w.delivered.append(event)


async def op_redeliver(w: World, _user: int, index: int) -> None:
    if w.delivered:
        await _stripe_delivers(w, w.delivered[index % len(w.delivered)])


async def op_pay_again(w: World, user: int, index: int) -> None:
    booking = await _booking(w, user, index)
    if booking is None or not booking.payment.session_id:
        return
    session = w.stripe.sessions.get(booking.payment.session_id)
    if session is not None and session["status"] == "open":
        expired = w.stripe.expire_session(booking.payment.session_id)
        await _stripe_delivers(w, build_event("checkout.session.expired", expired))
    with contextlib.suppress(FlyOError):
        await w.payments.ensure_link(booking)


async def op_cancel(w: World, user: int, index: int) -> None:
    booking = await _booking(w, user, index)
    if booking is None or booking.status == BookingStatus.CANCELLED:
        return
    with contextlib.suppress(FlyOError):
        await w.payments.cancel(booking, "changed my mind", f"user:{user}")


async def op_dashboard_refund(w: World, user: int, index: int) -> None:
    booking = await _booking(w, user, index)
    if booking is None or booking.status != BookingStatus.CONFIRMED or not booking.payment.payment_intent_id:
        return
    charge = {"id": f"ch_{booking.id}", "object": "charge", "amount": booking.payment.amount_paid,
              "amount_refunded": booking.payment.amount_paid, "currency": booking.price.currency.lower(),
              "payment_intent": booking.payment.payment_intent_id, "refunded": True}
    await _stripe_delivers(w, build_event("charge.refunded", charge))


async def op_sweep(w: World, _user: int, _arg: int) -> None:
    await w.sweeper.run()


async def op_advance(w: World, _user: int, arg: int) -> None:
    minutes = ADVANCES[arg % len(ADVANCES)]
    if w.advanced_minutes + minutes <= 20 * 60:  # Stripe refuses sessions expiring > 24 h after creation
        w.clock.advance(timedelta(minutes=minutes))
        w.advanced_minutes += minutes


# Weighted by repetition: the paths to money (book, pay, deliver) come up often enough to matter.
OPS = [op_hold, op_release, op_book, op_book, op_book, op_pay, op_pay, op_pay_now, op_pay_now, op_deliver, op_deliver,
       op_deliver, op_redeliver, op_pay_again, op_cancel, op_dashboard_refund, op_sweep, op_sweep, op_advance,
       op_advance]
step = st.tuples(st.sampled_from(OPS), st.integers(0, USERS - 1), st.integers(0, 7))
program = st.lists(st.one_of(step, st.tuples(step, step)), min_size=4, max_size=28)


async def _run(w: World, item: Any) -> None:
    if isinstance(item[0], tuple):  # two at once: their round trips interleave
        (fa, ua, aa), (fb, ub, ab) = item
        await asyncio.gather(fa(w, ua + 1, aa), fb(w, ub + 1, ab))
    else:
        fn, user, arg = item
        await fn(w, user + 1, arg)


async def _check(w: World) -> None:
    await assert_seat_and_money_invariants()
    live = await Booking.find({"status": {"$in": ["PENDING", "CONFIRMED"]}}).to_list()
    owner: dict[tuple[str, str], str] = {}
    for booking in live:
        for key in ((s.flight.flight_id, seat) for s in booking.segments for seat in s.seats):
            assert key not in owner, f"seat {key} is in live bookings {owner[key]} and {booking.reference}"
            owner[key] = booking.reference
        assert len({len(s.seats) for s in booking.segments}) == 1  # every flight seats every passenger
    refunded_intents = {r["payment_intent"] for r in w.stripe.refunds.values()}
    for delivered in w.delivered:
        session = delivered["data"]["object"]
        paid_for = await Booking.find_one({"payment.session_id": session["id"]})
        confirmed = paid_for is not None and paid_for.status == BookingStatus.CONFIRMED
        refunded = session["payment_intent"] in refunded_intents or (
            paid_for is not None and paid_for.payment.status == "refunded")  # in the dashboard
        assert confirmed or refunded, (
            f"paid session {session['id']} is neither CONFIRMED nor refunded")
    for note in await Notification.find({"key": {"$regex": "^confirm-chat:"}}).to_list():
        assert await Notification.find(Notification.key == note.key).count() == 1


# CI runs a fixed, repeatable set; FLYO_PROPERTY_EXAMPLES=500 explores new random programs on a quiet machine.
EXAMPLES = int(os.environ.get("FLYO_PROPERTY_EXAMPLES", "0"))


@settings(max_examples=EXAMPLES or 30, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=not EXAMPLES)
@given(steps=program)
async def test_random_interleavings_keep_seats_and_money_right(world: World, steps: list[Any]) -> None:
    await _reset(world)
    for item in steps:
        await _run(world, item)
        await _check(world)
    await world.sweeper.run()  # and whatever the sweep does afterwards keeps them right too
    await _check(world)
    for status in ("PENDING", "CONFIRMED", "CANCELLED"):  # what the programs reached (--hypothesis-show-statistics)
        if await Booking.find({"status": status}).count():
            event(f"reached {status}")
