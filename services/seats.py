"""Seat holds: one document per taken seat, claimed by a single conditional write.

A traveller's (chat) hold is free again once it expired (`expires_ms < now`); expiry is checked at
hold time, so correctness never depends on the sweeper. A booking's hold is never reclaimed by
anyone: it lives until its booking is cancelled (the sweep asks Stripe first), because a payment
may complete at the last second and its webhook arrive late. Three writes per attempt at most:
(1) insert, guarded by the unique seat_key index; (2) if the seat has a document, refresh our own
hold or reclaim an expired chat hold, each a conditional update. Exactly one writer can win.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable

from pymongo.errors import DuplicateKeyError

from core.clock import Clock
from core.errors import SeatUnavailable
from models.collections import collection
from models.seat import BOOKED_FOREVER_MS, SeatHold, seat_key


def chat_holder(chat_id: int) -> str:
    return f"chat:{chat_id}"


def booking_holder(booking_id: str) -> str:
    return f"booking:{booking_id}"


class SeatService:
    def __init__(self, clock: Clock, hold_minutes: int) -> None:
        self.clock = clock
        self.hold_ms = hold_minutes * 60_000

    async def hold(self, flight_id: str, seat: str, holder: str, cabin: str = "") -> int:
        """Hold `seat` for `holder`; returns the expiry (epoch ms) or raises SeatUnavailable."""
        now = self.clock.now_ms()
        expires = now + self.hold_ms
        token = secrets.token_hex(8)  # identifies this hold in logs and diagnostics
        fields = {"status": "held", "holder": holder, "token": token, "expires_ms": expires,
                  "booking_id": None, "cabin": cabin}
        key = seat_key(flight_id, seat)
        # Insert first: a free seat costs one write, guarded by the unique seat_key index.
        try:
            await collection(SeatHold).insert_one({"flight_id": flight_id, "seat": seat, "seat_key": key, **fields})
        except DuplicateKeyError:
            pass  # someone's document exists: maybe ours, maybe expired (below)
        else:
            return expires
        # Taken: ours to refresh, or an expired hold to reclaim — each one conditional update. (No `$or` in write
        # filters: nx-27017 ignores the other fields next to it, see README, Database.)
        refreshed = await collection(SeatHold).update_one(
            {"seat_key": key, "status": "held", "holder": holder}, {"$set": fields}
        )
        if refreshed.matched_count == 1:
            return expires
        reclaimed = await collection(SeatHold).update_one(  # only a lapsed *chat* hold: booking_id None
            {"seat_key": key, "status": "held", "booking_id": None, "expires_ms": {"$lt": now}}, {"$set": fields}
        )
        if reclaimed.matched_count != 1:
            raise SeatUnavailable(seat)
        return expires

    async def release(self, flight_id: str, seat: str, holder: str) -> bool:
        result = await collection(SeatHold).delete_one(
            {"seat_key": seat_key(flight_id, seat), "holder": holder, "status": "held"}
        )
        return result.deleted_count == 1

    async def release_holder(self, holder: str) -> int:
        """Free every seat `holder` holds (not booked ones)."""
        result = await collection(SeatHold).delete_many({"holder": holder, "status": "held"})
        return result.deleted_count

    async def taken(self, flight_id: str, holder: str | None = None) -> dict[str, str]:
        """Seat -> "mine" | "taken" for seats that are booked or held (unexpired) on this flight.

        Two `distinct` queries instead of reading every seat document: ~1.5 ms against ~10 ms on a full flight.
        """
        live = {"flight_id": flight_id, "expires_ms": {"$gte": self.clock.now_ms()}}
        seats = await collection(SeatHold).distinct("seat", live)
        mine: set[str] = set()
        if holder is not None:
            mine = set(await collection(SeatHold).distinct("seat", {**live, "holder": holder, "status": "held"}))
        return {seat: "mine" if seat in mine else "taken" for seat in seats}

    async def taken_counts(self, flight_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """flight_id -> cabin -> seats taken (booked or held unexpired).

        One equality query per flight, counted here: nx-27017 runs `$in` and aggregations through
        temporary tables, which stalled the whole server under concurrent searches (README, Database).
        """
        ids = list(dict.fromkeys(flight_ids))
        now = self.clock.now_ms()

        async def count(flight_id: str) -> dict[str, int]:
            per_cabin: dict[str, int] = {}
            async for doc in collection(SeatHold).find({"flight_id": flight_id}, {"cabin": 1, "expires_ms": 1}):
                if doc["expires_ms"] >= now:
                    per_cabin[doc.get("cabin") or ""] = per_cabin.get(doc.get("cabin") or "", 0) + 1
            return per_cabin

        results = await asyncio.gather(*(count(fid) for fid in ids))
        return dict(zip(ids, results, strict=True))

    async def transfer(self, flight_id: str, seats: list[str], from_holder: str, booking_id: str,
                       until_ms: int) -> bool:
        """Move the traveller's live holds to the booking (all or nothing); False if any hold was lost."""
        now = self.clock.now_ms()
        to_holder = booking_holder(booking_id)
        moved: list[str] = []
        for seat in seats:
            result = await collection(SeatHold).update_one(
                {"seat_key": seat_key(flight_id, seat), "status": "held", "expires_ms": {"$gte": now},
                 "holder": from_holder},
                {"$set": {"holder": to_holder, "booking_id": booking_id, "expires_ms": until_ms}},
            )
            if result.matched_count != 1:
                for done in moved:  # give back what we took so the traveller can pick again
                    await collection(SeatHold).update_one(
                        {"seat_key": seat_key(flight_id, done), "holder": to_holder, "status": "held"},
                        {"$set": {"holder": from_holder, "booking_id": None}},
                    )
                return False
            moved.append(seat)
        return True

    async def rehold_for_booking(self, flight_id: str, seats: list[str], booking_id: str, until_ms: int,
                                 cabin: str) -> bool:
        """Extend (or re-take, if they were lost and are still free) a booking's seats until `until_ms`.

        The cabin is kept on every hold: "N left" counts seats per cabin.
        """
        holder = booking_holder(booking_id)
        taken: list[str] = []
        for seat in seats:
            try:
                await self.hold(flight_id, seat, holder, cabin)
            except SeatUnavailable:
                for done in taken:
                    await self.release(flight_id, done, holder)
                return False
            taken.append(seat)
        await collection(SeatHold).update_many(
            {"holder": holder, "status": "held"}, {"$set": {"expires_ms": until_ms, "booking_id": booking_id}}
        )
        return True

    async def book(self, booking_id: str) -> set[str]:
        """Held → booked for a paid booking (idempotent); returns every seat this booking now has booked.

        The caller compares that with the seats the traveller paid for: a hold can have been lost.
        """
        await collection(SeatHold).update_many(
            {"holder": booking_holder(booking_id)},
            {"$set": {"status": "booked", "expires_ms": BOOKED_FOREVER_MS, "booking_id": booking_id}},
        )
        booked = await collection(SeatHold).distinct(
            "seat", {"holder": booking_holder(booking_id), "status": "booked"})
        return {str(seat) for seat in booked}

    async def release_booking(self, booking_id: str) -> int:
        result = await collection(SeatHold).delete_many({"holder": booking_holder(booking_id)})
        return result.deleted_count

    async def release_expired(self) -> int:
        """Housekeeping: delete lapsed chat holds (already free for the hold query). A booking's holds go only
        with its booking (services.sweeps), however late."""
        result = await collection(SeatHold).delete_many(
            {"status": "held", "booking_id": None, "expires_ms": {"$lt": self.clock.now_ms()}}
        )
        return result.deleted_count

    async def held_by(self, holder: str, flight_id: str) -> int:
        """Live seats `holder` holds on a flight (for the per-user limit)."""
        return int(await collection(SeatHold).count_documents(
            {"holder": holder, "flight_id": flight_id, "status": "held",
             "expires_ms": {"$gte": self.clock.now_ms()}}))

    async def active_holds(self) -> int:
        return int(await collection(SeatHold).count_documents(
            {"status": "held", "expires_ms": {"$gte": self.clock.now_ms()}}
        ))
