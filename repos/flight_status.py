"""Flight status events (`flight_status_events`) and each flight's current state (`flight_states`).

An event is inserted once under its unique key (a replay is a DuplicateKeyError: False). The state moves by one
conditional update that matches only a state older than the event (`as_of_ms` below its `at_ms`) and not final,
so two replicas applying events in any order end on the newest; the state document is created on a flight's first
event by an upsert on its unique `flight_id` (a race of two first events: the loser's insert fails and it retries
the update once the document exists).
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from models.booking import Booking, BookingStatus
from models.flight_status import FINAL, FlightState, FlightStatusEvent, FlightStatusKind
from repos.base import collection


def _changes(event: FlightStatusEvent) -> dict[str, Any]:
    """The fields an event sets on the state: only what it carries (a gate change keeps a delay's times)."""
    fields: dict[str, Any] = {"as_of_ms": event.at_ms, "last_event_key": event.event_key}
    if event.kind != FlightStatusKind.GATE:
        fields["kind"] = event.kind
        fields["reason"] = event.reason
    for name in ("departs_ms", "arrives_ms", "gate", "terminal", "diverted_to"):
        value = getattr(event, name)
        if value is not None:
            fields[name] = value
    return fields


class FlightStatusRepo:
    async def add_event(self, event: FlightStatusEvent) -> bool:
        """Store the event; False when one with its key exists (the same event again)."""
        try:
            await event.insert()
        except DuplicateKeyError:
            return False
        return True

    async def apply(self, event: FlightStatusEvent) -> bool:
        """Move the flight's state to this event; False when the state already shows a newer (or final) one."""
        states = collection(FlightState)
        older = {"flight_id": event.flight_id, "as_of_ms": {"$lt": event.at_ms}, "kind": {"$nin": list(FINAL)}}
        if (await states.update_one(older, {"$set": _changes(event)})).matched_count == 1:
            return True
        if await states.count_documents({"flight_id": event.flight_id}, limit=1):
            return False  # it exists and is newer, or final
        try:
            await FlightState(flight_id=event.flight_id, **_changes(event)).insert()
        except DuplicateKeyError:  # another replica created it a moment ago: one more try against it
            return (await states.update_one(older, {"$set": _changes(event)})).matched_count == 1
        return True

    async def mark_stale(self, event: FlightStatusEvent) -> None:
        await collection(FlightStatusEvent).update_one({"_id": event.id}, {"$set": {"stale": True, "fanned_ms": 0}})

    async def mark_fanned(self, event: FlightStatusEvent, now_ms: int) -> None:
        await collection(FlightStatusEvent).update_one({"_id": event.id, "fanned_ms": None},
                                                       {"$set": {"fanned_ms": now_ms}})

    async def unfanned(self, limit: int) -> list[FlightStatusEvent]:
        """Events whose alerts were not all queued (a crash in the fan-out): the sweep finishes them."""
        return await FlightStatusEvent.find({"fanned_ms": None}).limit(limit).to_list()

    async def state(self, flight_id: str) -> FlightState | None:
        return await FlightState.find_one({"flight_id": flight_id})

    async def states(self, flight_ids: list[str]) -> dict[str, FlightState]:
        """The states of these flights (one equality query each: nx-27017 scans for `$in`)."""
        found: dict[str, FlightState] = {}
        for flight_id in dict.fromkeys(flight_ids):
            state = await self.state(flight_id)
            if state is not None:
                found[flight_id] = state
        return found

    async def applied_since(self, since_ms: int) -> list[FlightStatusEvent]:
        """Reports received since `since_ms` that moved a flight's state (/stats)."""
        return await FlightStatusEvent.find({"received_ms": {"$gte": since_ms}, "stale": False}).to_list()

    async def cancelled(self, limit: int) -> list[FlightState]:
        return await FlightState.find({"kind": FlightStatusKind.CANCELLED}).limit(limit).to_list()

    async def events(self, flight_id: str, limit: int = 20) -> list[FlightStatusEvent]:
        return await FlightStatusEvent.find({"flight_id": flight_id}).sort("-at_ms").limit(limit).to_list()

    async def confirmed_bookings_on(self, flight_id: str) -> list[Booking]:
        """Every CONFIRMED booking with a segment on this flight (one way, a leg of a return, a connection).
        `$elemMatch`: nx-27017 does not match a dotted path into an array (README, Database)."""
        return await Booking.find({"status": BookingStatus.CONFIRMED,
                                   "segments": {"$elemMatch": {"flight.flight_id": flight_id}}}).to_list()
