"""Flight status under interleavings nobody scripted (Hypothesis): reports of every kind, repeated, late, out of
order, several at once (two replicas, a feed and an admin), on the real database protocol. Whatever the order:

- each report is stored once, and is either applied or marked stale — never both, never neither;
- the flight's state shows the newest applied report (`as_of_ms` is the greatest `at_ms` applied) and never a
  report older than one it showed before;
- without a final report (cancelled, landed, diverted) the newest report always wins, whatever arrived first;
- a final state takes nothing after it;
- a traveller on the flight has at most one chat row and one e-mail row per report, and none for a stale one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import Clock
from core.database import Database
from models import Booking, BookingStatus, Passenger, PaymentState, PriceSnapshot
from models.booking import Segment
from models.flight import Flight, FlightSnapshot
from models.flight_status import FINAL, FlightState, FlightStatusEvent, FlightStatusKind
from models.ops import Notification
from services.flight_status import FlightStatusService
from services.mailer import OutboxMailer
from services.notifications import NotificationService
from services.providers.status_feed import StatusUpdate
from services.reference import ReferenceData

EXAMPLES = int(os.environ.get("FLYO_PROPERTY_EXAMPLES", "0"))
KINDS = [FlightStatusKind.DELAYED, FlightStatusKind.GATE, FlightStatusKind.BOARDING, FlightStatusKind.SCHEDULED,
         FlightStatusKind.DEPARTED, FlightStatusKind.CANCELLED, FlightStatusKind.LANDED]


@dataclass
class World:
    status: FlightStatusService
    flight: Flight
    booking: Booking


@pytest.fixture
async def world(inventory_db: Database, tmp_path: Path) -> AsyncIterator[World]:
    clock = Clock()
    notifications = NotificationService(clock, OutboxMailer(tmp_path / "outbox", ""), frozenset())
    flight = await Flight.find_one({"source": "local"})
    assert flight is not None
    snapshot = FlightSnapshot(flight_id=str(flight.id), flight_number=flight.flight_number, origin=flight.origin,
                              destination=flight.destination, departs_at=flight.departs_at,
                              arrives_at=flight.arrives_at, aircraft=flight.aircraft, cabin="economy")
    booking = Booking(reference="PROP01", user_id=1, chat_id=1, status=BookingStatus.CONFIRMED,
                      segments=[Segment(flight=snapshot, seats=["10A"], fare_per_passenger=100)],
                      passengers=[Passenger(full_name="Ada Lovelace", birth_date=date(1990, 1, 1))],
                      email="ada@example.com", created_at=datetime.now(UTC), updated_ms=0, hold_expires_ms=0,
                      payment=PaymentState(), price=PriceSnapshot(currency="GBP", fare_per_passenger=100,
                                                                  passengers=1, total=100))
    yield World(FlightStatusService(clock, notifications, ReferenceData()), flight, booking)


report = st.tuples(st.integers(0, 5), st.sampled_from(KINDS), st.integers(0, 8))  # (key, kind, minute)
program = st.lists(st.lists(report, min_size=1, max_size=4), min_size=1, max_size=5)  # groups run concurrently


@settings(max_examples=EXAMPLES or 25, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=not EXAMPLES)
@given(groups=program)
async def test_any_order_of_reports_ends_on_the_newest(world: World, groups: list[list[Any]]) -> None:
    for model in (FlightStatusEvent, FlightState, Notification, Booking):
        await model.get_pymongo_collection().delete_many({})
    await world.booking.model_copy(update={"id": None}).insert()
    base = int(world.flight.departs_at.replace(tzinfo=UTC).timestamp() * 1000) - 3_600_000
    first_of: dict[int, tuple[FlightStatusKind, int]] = {}  # a key is one report: its first version is the one stored
    seen_as_of = 0
    for group in groups:
        updates = [StatusUpdate(
            key=f"feed:{key}", flight=world.flight, kind=first_of.setdefault(key, (kind, minute))[0],
            at_ms=base + first_of[key][1] * 60_000, source="feed",
            departs_ms=base + int(timedelta(hours=2).total_seconds() * 1000) if kind == FlightStatusKind.DELAYED
            else None, gate="B1" if kind == FlightStatusKind.GATE else None) for key, kind, minute in group]
        await asyncio.gather(*(world.status.record(u) for u in updates))
        state = await world.status.state(str(world.flight.id))
        assert state is not None
        assert state.as_of_ms >= seen_as_of  # never rolled back
        seen_as_of = state.as_of_ms

    events = await FlightStatusEvent.find({}).to_list()
    assert sorted(e.event_key for e in events) == sorted(f"feed:{k}" for k in first_of)  # each stored once
    applied = [e for e in events if not e.stale]
    assert applied, "the first report always applies"
    state = await world.status.state(str(world.flight.id))
    assert state is not None
    assert state.as_of_ms == max(e.at_ms for e in applied)
    if not any(kind in FINAL for kind, _minute in first_of.values()):
        assert state.as_of_ms == max(e.at_ms for e in events)  # the newest always wins
    finals = [e for e in applied if e.kind in FINAL]
    if finals:
        assert len(finals) == 1 and state.kind == finals[0].kind
        assert all(e.at_ms < finals[0].at_ms or e.stale for e in events if e is not finals[0])
    booking_id = (await Booking.find_one({}))
    assert booking_id is not None
    for event in events:
        rows = await Notification.find({"key": {"$regex": f"^flight-{event.id}:"}}).count()
        told = event.kind not in (FlightStatusKind.DEPARTED, FlightStatusKind.LANDED) and not event.stale
        assert rows == (2 if told else 0), (event.event_key, event.kind, event.stale, rows)
