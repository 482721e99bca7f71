"""A seat hold is one conditional upsert (`SeatRepo.claim`), an own hold's refresh one conditional update
(`SeatRepo.refresh`); `SeatService.hold(mine=…)` tries the likely one first. Against the real test database
(nx-27017, or TEST_MONGODB_URI), round trips counted with FlyO's command listener."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import Clock
from core.database import Database, counting_round_trips
from core.errors import SeatUnavailable
from models import Booking, Flight, SeatHold
from models.booking import Passenger
from models.seat import HoldStatus, seat_key
from services.bookings import NewBooking, NewSegment
from services.seats import SeatService, booking_holder, chat_holder
from tests.paying import PayingBot

FLIGHT = "claim-test-flight"
HOLD_MINUTES = 15


def _service(*, cache_counts: bool = False) -> tuple[Clock, SeatService]:
    clock = Clock()
    return clock, SeatService(clock, hold_minutes=HOLD_MINUTES, cache_counts=cache_counts)


async def _doc(seat: str, flight: str = FLIGHT) -> SeatHold | None:
    return await SeatHold.find_one(SeatHold.seat_key == seat_key(flight, seat))


def _writes(commands: list[str]) -> list[str]:
    return [c for c in commands if c.split()[0] in ("insert", "update", "delete", "findAndModify")]


async def test_a_free_seat_is_held_in_one_round_trip(db: Database) -> None:
    _clock, seats = _service()
    with counting_round_trips() as commands:
        expires = await seats.hold(FLIGHT, "1A", chat_holder(1), "economy", mine=False)
    assert commands == ["update seat_holds"]
    doc = await _doc("1A")
    assert doc is not None
    assert (doc.flight_id, doc.seat, doc.cabin, doc.status, doc.holder, doc.booking_id, doc.expires_ms) == (
        FLIGHT, "1A", "economy", HoldStatus.HELD, chat_holder(1), None, expires)
    assert len(doc.token) == 16
    with counting_round_trips() as commands:  # a tap that doesn't know: the same single write when it is free
        await seats.hold(FLIGHT, "1B", chat_holder(1), "economy")
    assert commands == ["update seat_holds"]


async def test_another_travellers_live_hold_is_lost_and_left_alone(db: Database) -> None:
    _clock, seats = _service()
    await seats.hold(FLIGHT, "2A", chat_holder(1), "economy")
    before = await _doc("2A")
    with counting_round_trips() as commands, pytest.raises(SeatUnavailable):
        await seats.hold(FLIGHT, "2A", chat_holder(2), "economy", mine=False)
    assert commands == ["update seat_holds"]  # the upsert's E11000: one round trip
    with counting_round_trips() as commands, pytest.raises(SeatUnavailable):
        await seats.hold(FLIGHT, "2A", chat_holder(2), "economy")  # don't know: claim or own refresh, at once
    assert commands == ["update seat_holds"]
    with pytest.raises(SeatUnavailable):
        await seats.hold(FLIGHT, "2A", chat_holder(2), "economy", mine=True)
    assert await _doc("2A") == before
    assert await SeatHold.find(SeatHold.seat_key == seat_key(FLIGHT, "2A")).count() == 1


async def test_a_lapsed_chat_hold_is_reclaimed_in_place(db: Database) -> None:
    clock, seats = _service()
    await seats.hold(FLIGHT, "3A", chat_holder(1), "economy")
    before = await _doc("3A")
    clock.advance(timedelta(minutes=HOLD_MINUTES, seconds=1))
    with counting_round_trips() as commands:
        expires = await seats.hold(FLIGHT, "3A", chat_holder(2), "business", mine=False)
    assert commands == ["update seat_holds"]
    after = await _doc("3A")
    assert before is not None and after is not None
    assert after.id == before.id and after.holder == chat_holder(2) and after.expires_ms == expires
    assert after.cabin == "business" and after.token != before.token and after.booking_id is None


async def test_a_bookings_hold_is_never_reclaimed_even_long_after_its_expiry(db: Database) -> None:
    clock, seats = _service()
    await seats.hold(FLIGHT, "4A", chat_holder(1), "economy")
    assert await seats.transfer([(FLIGHT, ["4A"])], chat_holder(1), "b4", clock.now_ms() + 60_000) is None
    before = await _doc("4A")
    clock.advance(timedelta(days=2))
    for mine in (False, None, True):
        with pytest.raises(SeatUnavailable):
            await seats.hold(FLIGHT, "4A", chat_holder(2), "economy", mine=mine)
    assert await _doc("4A") == before
    assert before is not None and before.holder == booking_holder("b4") and before.booking_id == "b4"


async def test_a_booked_seat_is_lost_to_everyone(db: Database) -> None:
    clock, seats = _service()
    await seats.hold(FLIGHT, "5A", chat_holder(1), "economy")
    assert await seats.transfer([(FLIGHT, ["5A"])], chat_holder(1), "b5", clock.now_ms() + 60_000) is None
    assert await seats.book("b5") == {seat_key(FLIGHT, "5A")}
    before = await _doc("5A")
    clock.advance(timedelta(days=400))
    for holder in (chat_holder(1), chat_holder(2), booking_holder("b5")):
        for mine in (False, None, True):
            with pytest.raises(SeatUnavailable):
                await seats.hold(FLIGHT, "5A", holder, "economy", mine=mine)
    after = await _doc("5A")
    assert after == before and after is not None and after.status == HoldStatus.BOOKED


async def test_an_own_live_hold_is_refreshed_in_one_round_trip(db: Database) -> None:
    clock, seats = _service()
    first = await seats.hold(FLIGHT, "6A", chat_holder(1), "economy")
    before = await _doc("6A")
    clock.advance(timedelta(minutes=10))
    with counting_round_trips() as commands:
        second = await seats.hold(FLIGHT, "6A", chat_holder(1), "economy", mine=True)
    assert commands == ["update seat_holds"]
    assert second == first + 10 * 60_000 or second > first
    after = await _doc("6A")
    assert before is not None and after is not None
    assert after.id == before.id and after.expires_ms == second and after.holder == chat_holder(1)
    clock.advance(timedelta(minutes=1))
    with counting_round_trips() as commands:  # a replayed tap on one's own seat: refreshed by the same upsert
        third = await seats.hold(FLIGHT, "6A", chat_holder(1), "economy")
    assert commands == ["update seat_holds"]
    assert third > second and (await _doc("6A") or before).expires_ms == third


async def test_mine_true_on_a_seat_that_went_back_to_free_claims_it(db: Database) -> None:
    """Continue after the sweep deleted the lapsed hold: the refresh finds nothing, the claim takes it."""
    clock, seats = _service()
    await seats.hold(FLIGHT, "7A", chat_holder(1), "economy")
    clock.advance(timedelta(minutes=HOLD_MINUTES, seconds=1))
    assert await seats.release_expired() == 1
    with counting_round_trips() as commands:
        await seats.hold(FLIGHT, "7A", chat_holder(1), "economy", mine=True)
    assert commands == ["update seat_holds", "update seat_holds"]
    doc = await _doc("7A")
    assert doc is not None and doc.holder == chat_holder(1)


async def test_a_bookings_rehold_writes_its_id_and_final_expiry_in_one_round_trip_per_seat(db: Database) -> None:
    clock, seats = _service()
    for seat in ("8A", "8B"):
        await seats.hold(FLIGHT, seat, chat_holder(1), "economy")
    assert await seats.transfer([(FLIGHT, ["8A", "8B"])], chat_holder(1), "b8", clock.now_ms() + 60_000) is None
    until = clock.now_ms() + 3_600_000
    with counting_round_trips() as commands:
        assert await seats.rehold_for_booking(FLIGHT, ["8A", "8B"], "b8", until, "economy")
    assert _writes(commands) == commands == ["update seat_holds", "update seat_holds"]
    for seat in ("8A", "8B"):
        doc = await _doc(seat)
        assert doc is not None
        assert (doc.holder, doc.booking_id, doc.expires_ms, doc.cabin) == (booking_holder("b8"), "b8", until,
                                                                            "economy")


async def test_twenty_concurrent_claims_of_one_seat_have_exactly_one_winner(db: Database) -> None:
    _clock, seats = _service()
    results = await asyncio.gather(
        *(seats.hold(FLIGHT, "9A", chat_holder(100 + n), "economy", mine=False) for n in range(20)),
        return_exceptions=True)
    winners = [n for n, r in enumerate(results) if isinstance(r, int)]
    assert len(winners) == 1
    assert all(isinstance(r, SeatUnavailable) for n, r in enumerate(results) if n != winners[0])
    doc = await _doc("9A")
    assert doc is not None and doc.holder == chat_holder(100 + winners[0])


async def test_twenty_concurrent_reclaims_of_a_lapsed_hold_have_exactly_one_winner(db: Database) -> None:
    clock, seats = _service()
    await seats.hold(FLIGHT, "10A", chat_holder(1), "economy")
    clock.advance(timedelta(minutes=HOLD_MINUTES, seconds=1))
    results = await asyncio.gather(
        *(seats.hold(FLIGHT, "10A", chat_holder(200 + n), "economy") for n in range(20)), return_exceptions=True)
    winners = [n for n, r in enumerate(results) if isinstance(r, int)]
    assert len(winners) == 1
    doc = await _doc("10A")
    assert doc is not None and doc.holder == chat_holder(200 + winners[0])
    assert await SeatHold.find(SeatHold.seat_key == seat_key(FLIGHT, "10A")).count() == 1


async def test_one_traveller_tapping_one_seat_25_times_at_once_holds_it_once(db: Database) -> None:
    """A double-tapping (or replayed) traveller: every tap is theirs — the claim wins once, the others refresh."""
    _clock, seats = _service()
    results = await asyncio.gather(*(seats.hold(FLIGHT, "10B", chat_holder(5), "economy") for _ in range(25)),
                                   return_exceptions=True)
    assert all(isinstance(r, int) for r in results), results
    docs = await SeatHold.find(SeatHold.seat_key == seat_key(FLIGHT, "10B")).to_list()
    assert len(docs) == 1 and docs[0].holder == chat_holder(5) and docs[0].expires_ms in results


async def test_garbage_seat_codes_are_held_as_opaque_keys_without_touching_others(db: Database) -> None:
    """The repository takes any string (handlers validate against the layout): a 4 KB code, `$` and dots,
    a regex and a would-be operator are just other keys, and never match a real seat's document."""
    _clock, seats = _service()
    await seats.hold(FLIGHT, "11A", chat_holder(1), "economy")
    for code in ("x" * 4096, "$where", "11A.*", "{\"$gt\": \"\"}", ""):
        await seats.hold(FLIGHT, code, chat_holder(2), "economy", mine=False)
        with pytest.raises(SeatUnavailable):
            await seats.hold(FLIGHT, code, chat_holder(3), "economy", mine=False)
    doc = await _doc("11A")
    assert doc is not None and doc.holder == chat_holder(1)


# ---- confirm and pay -------------------------------------------------------------------------------------------
async def _booking(paying: PayingBot, chat: int, seats: list[str]) -> Booking:
    """A PENDING booking of `seats` on a seeded flight, made as review's confirm makes it."""
    svc, clock = paying.services, paying.bot.clock
    day = (clock.now().date() + timedelta(days=11)).isoformat()
    flight = await Flight.find_one(Flight.origin == "LHR", Flight.destination == "JFK", Flight.departure_date == day)
    assert flight is not None
    for seat in seats:
        await svc.seats.hold(str(flight.id), seat, chat_holder(chat), "economy")
    people = [Passenger(full_name=f"Traveller {n}", birth_date=date(1980, 1, 1)) for n in range(len(seats))]
    new = NewBooking(user_id=chat, chat_id=chat, passengers=people, email="t@example.com", draft_key=f"{chat}:1",
                     currency=flight.currency, segments=[NewSegment(flight, "economy", seats, flight.fares["economy"])])
    with counting_round_trips() as commands:
        booking: Booking = await svc.bookings.create(new, chat_holder(chat))
    assert [c for c in commands if "seat_holds" in c] == ["update seat_holds"]  # the transfer only: one bulk write
    return booking


async def _expiries(booking: Booking) -> set[int]:
    return {h.expires_ms for h in await SeatHold.find(SeatHold.booking_id == str(booking.id)).to_list()}


async def test_the_first_payment_link_finds_the_seats_held_until_its_expiry_and_writes_none(
        paying: PayingBot) -> None:
    """Confirm and pay: the booking's transfer already wrote the first Checkout Session's expiry + grace, so making
    the link costs no seat write; "pay again" (a later attempt) extends them to the new session's expiry + grace."""
    svc, clock = paying.services, paying.bot.clock
    booking = await _booking(paying, 16701, ["40A", "40B"])
    with counting_round_trips() as commands:
        link = await svc.payments.ensure_link(booking)
    assert not [c for c in commands if "seat_holds" in c]
    assert link.attempt == 1 and link.expires_ms == booking.hold_expires_ms
    assert paying.stripe.sessions[(await Booking.get(booking.id) or booking).payment.session_id or ""][
        "expires_at"] * 1000 == link.expires_ms
    assert link.expires_ms >= clock.now_ms() + svc.payments.window_ms  # Stripe's ≥ 30 min after creation
    assert await _expiries(booking) == {svc.bookings.hold_until_ms(link.expires_ms)}
    clock.advance(timedelta(minutes=svc.settings.PAYMENT_WINDOW_MINUTES + 2))  # lapsed unpaid: pay again
    with counting_round_trips() as commands:
        again = await svc.payments.ensure_link(booking)
    assert again.attempt == 2 and again.expires_ms > link.expires_ms
    assert [c for c in commands if "seat_holds" in c] == ["update seat_holds"] * 2  # one refresh per seat
    assert await _expiries(booking) == {svc.bookings.hold_until_ms(again.expires_ms)}


async def test_a_first_link_made_later_than_the_booking_extends_the_seats_to_its_own_expiry(
        paying: PayingBot) -> None:
    """The link is made a while after the booking (Stripe was down, the traveller tapped Try again): the session
    gets a fresh 30 minutes and the seats follow it, never expiring before the link does."""
    svc, clock = paying.services, paying.bot.clock
    booking = await _booking(paying, 16702, ["41A"])
    clock.advance(timedelta(minutes=3))
    link = await svc.payments.ensure_link(booking)
    assert link.attempt == 1 and link.expires_ms > booking.hold_expires_ms
    assert await _expiries(booking) == {svc.bookings.hold_until_ms(link.expires_ms)}


# ---- random interleavings --------------------------------------------------------------------------------------
@dataclass
class Model:
    """What each seat document should be: (holder, booking_id, status, expires_ms), or absent."""

    seats: dict[str, tuple[str, str | None, str, int]] = field(default_factory=dict)


SEATS = ("12A", "12B")
HOLDERS = 3

operation = st.one_of(
    st.tuples(st.sampled_from(["claim", "hold", "refresh", "release", "transfer", "book", "cancel", "free"]),
              st.integers(0, HOLDERS - 1), st.sampled_from(SEATS)),
    st.tuples(st.just("expire"), st.integers(1, HOLD_MINUTES + 1), st.just("")),
)


def _claimable(state: tuple[str, str | None, str, int] | None, now: int) -> bool:
    return state is None or (state[2] == HoldStatus.HELD and state[1] is None and state[3] < now)


async def _step(clock: Clock, seats: SeatService, model: Model, op: tuple[str, int, str]) -> None:
    kind, who, seat = op
    holder, now = chat_holder(who), clock.now_ms()
    before = model.seats.get(seat)
    if kind == "expire":
        clock.advance(timedelta(minutes=who))
        return
    if kind in ("claim", "hold", "refresh"):
        mine = {"claim": False, "hold": None, "refresh": True}[kind]
        own = before is not None and before[0] == holder and before[2] == HoldStatus.HELD
        expected = _claimable(before, now) or (mine is not False and own)
        try:
            expires = await seats.hold(FLIGHT, seat, holder, "economy", mine=mine)
        except SeatUnavailable:
            assert not expected, f"{op} lost a seat it should have had: {before}"
            return
        assert expected, f"{op} won a seat that was not free: {before}"
        assert before is None or before[1] is None, f"{op} took a booking's seat: {before}"
        model.seats[seat] = (holder, None, HoldStatus.HELD, expires)
    elif kind == "release":
        released = await seats.release(FLIGHT, seat, holder)
        assert released == (before is not None and before[0] == holder and before[2] == HoldStatus.HELD)
        if released:
            del model.seats[seat]
    elif kind == "transfer":
        booking = f"b{who}{seat}"
        # The traveller's hold moves (a lapsed one too, while nobody took it); a seat gone free or a lapsed chat
        # hold is taken again on the way (confirm retakes what lapsed while the traveller typed).
        own = before is not None and before[0] == holder and before[2] == HoldStatus.HELD
        until = now + 60_000
        lost = await seats.transfer([(FLIGHT, [seat])], holder, booking, until, cabins=["economy"])
        assert (lost is None) == (own or _claimable(before, now)), f"{op}: {before}"
        if lost is None:
            model.seats[seat] = (booking_holder(booking), booking, HoldStatus.HELD, until)
    elif kind == "cancel":  # the booking holding this seat is cancelled: all its seats go
        if before is not None and before[1] is not None:
            await seats.release_booking(before[1])
            model.seats = {s: v for s, v in model.seats.items() if v[1] != before[1]}
    elif kind == "free":  # the traveller starts over: every seat they hold goes
        await seats.release_holder(holder)
        model.seats = {s: v for s, v in model.seats.items() if not (v[0] == holder and v[2] == HoldStatus.HELD)}
    else:  # book whatever booking holds this seat
        if before is None or before[1] is None:
            return
        await seats.book(before[1])
        model.seats[seat] = (before[0], before[1], HoldStatus.BOOKED, 0)


async def _check(model: Model, seats: SeatService | None = None) -> None:
    docs = await SeatHold.find(SeatHold.flight_id == FLIGHT).to_list()
    assert len(docs) == len({d.seat for d in docs}), "two documents for one seat"
    actual = {d.seat: (d.holder, d.booking_id, d.status) for d in docs}
    assert actual == {s: v[:3] for s, v in model.seats.items()}
    if seats is not None:  # "N left" from memory (services.seat_counts) is what the database says
        now = seats.clock.now_ms()
        live = sum(1 for d in docs if d.expires_ms >= now)
        shown = await seats.taken_counts([FLIGHT])
        assert shown == {FLIGHT: {"economy": live} if live else {}}, (shown, live)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(steps=st.lists(operation, max_size=25))
async def test_random_claims_refreshes_releases_transfers_and_expiry_keep_one_holder_per_seat(
        db: Database, steps: list[Any]) -> None:
    """3 travellers, 2 seats: whatever the order, each seat has at most one holder, a claim wins exactly when
    the seat was free or a lapsed chat hold (or, for hold/refresh, one's own), and a booking's seat is never
    taken by anyone."""
    await SeatHold.get_pymongo_collection().delete_many({"flight_id": FLIGHT})  # type: ignore[attr-defined]
    clock, seats = _service(cache_counts=True)
    model = Model()
    await _check(model, seats)
    for op in steps:
        await _step(clock, seats, model, op)
        await _check(model, seats)
