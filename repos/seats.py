"""Seat holds (`seat_holds`): one document per taken seat; the unique `seat_key` index makes a claim atomic.

A seat with no document is free; so is a lapsed *chat* hold (`booking_id: None`, `expires_ms < now`), which
`claim` may take over. A booking's holds are never reclaimed by time: they go when the booking is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from models.seat import BOOKED_FOREVER_MS, HoldStatus, SeatHold, seat_key
from repos.base import collection


class SeatRepo:
    async def claim(self, flight_id: str, seat: str, holder: str, *, cabin: str, token: str, expires_ms: int,
                    now_ms: int, booking_id: str | None = None) -> bool:
        """Take `seat` for `holder` until `expires_ms` if it is free or a lapsed *chat* hold; False otherwise.

        ONE conditional upsert: the filter matches only a lapsed chat hold (held, `booking_id: None`, expired),
        which is reclaimed in place; no match inserts a new document, which the unique seat_key index refuses
        (E11000) when any other document exists — a live hold (ours included: see `refresh`), a booking's hold or a
        booked seat. Exactly one of any number of concurrent claimers wins. (`$or` is avoided: nx-27017 ignores the
        fields next to it in write filters, README, Database.)
        """
        key = seat_key(flight_id, seat)
        try:
            await collection(SeatHold).update_one(
                {"seat_key": key, "status": HoldStatus.HELD, "booking_id": None, "expires_ms": {"$lt": now_ms}},
                {"$set": _hold_fields(holder, cabin, token, expires_ms, booking_id),
                 "$setOnInsert": {"flight_id": flight_id, "seat": seat, "seat_key": key}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # someone's document, live or booked
        return True

    async def claim_or_refresh(self, flight_id: str, seat: str, holder: str, *, cabin: str, token: str,
                               expires_ms: int, now_ms: int, booking_id: str | None = None) -> bool:
        """`claim`, or `refresh` when the seat is already `holder`'s own hold — in ONE conditional upsert: the
        filter is one `$or` of the two (and nothing beside it: nx-27017 ignores fields next to `$or` in write
        filters, README, Database); no match inserts, which the unique index refuses while anyone else has it."""
        key = seat_key(flight_id, seat)
        try:
            await collection(SeatHold).update_one(
                {"$or": [
                    {"seat_key": key, "status": HoldStatus.HELD, "booking_id": None, "expires_ms": {"$lt": now_ms}},
                    {"seat_key": key, "status": HoldStatus.HELD, "holder": holder},
                ]},
                {"$set": _hold_fields(holder, cabin, token, expires_ms, booking_id),
                 "$setOnInsert": {"flight_id": flight_id, "seat": seat, "seat_key": key}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def refresh(self, flight_id: str, seat: str, holder: str, *, cabin: str, token: str, expires_ms: int,
                      booking_id: str | None = None) -> bool:
        """`holder`'s own hold of `seat` (held, not booked) runs until `expires_ms` now; False if it has none.

        One conditional update; a lapsed own hold that nobody reclaimed is refreshed too (it is still ours).
        """
        result = await collection(SeatHold).update_one(
            {"seat_key": seat_key(flight_id, seat), "status": HoldStatus.HELD, "holder": holder},
            {"$set": _hold_fields(holder, cabin, token, expires_ms, booking_id)},
        )
        return result.matched_count == 1

    async def release(self, flight_id: str, seat: str, holder: str) -> bool:
        result = await collection(SeatHold).delete_one(
            {"seat_key": seat_key(flight_id, seat), "holder": holder, "status": HoldStatus.HELD}
        )
        return result.deleted_count == 1

    async def release_held(self, holder: str) -> int:
        """Free every seat `holder` holds (not booked ones)."""
        result = await collection(SeatHold).delete_many({"holder": holder, "status": HoldStatus.HELD})
        return result.deleted_count

    async def release_all(self, holder: str) -> int:
        """Free every seat of `holder`, held or booked (a cancelled booking's)."""
        result = await collection(SeatHold).delete_many({"holder": holder})
        return result.deleted_count

    async def release_on_flight(self, holder: str, flight_id: str) -> int:
        """Free every seat of `holder` on one flight, held or booked (a booking moved off it)."""
        result = await collection(SeatHold).delete_many({"holder": holder, "flight_id": flight_id})
        return result.deleted_count

    async def release_held_on_flight(self, holder: str, flight_id: str) -> int:
        """Free the seats `holder` holds but has not booked on one flight (a move given up)."""
        result = await collection(SeatHold).delete_many({"holder": holder, "flight_id": flight_id,
                                                         "status": HoldStatus.HELD})
        return result.deleted_count

    async def live_seats(self, flight_id: str, now_ms: int, *, held_by: str | None = None) -> set[str]:
        """Seats booked or held (unexpired) on the flight; with `held_by`, only those that holder holds.

        `distinct` instead of reading every seat document: ~1.5 ms against ~10 ms on a full flight. (nx-27017's
        `distinct` is right with these equality + range filters, covered by the seat tests; with `$in` it
        ignores the filter — README, Database.)
        """
        live = {"flight_id": flight_id, "expires_ms": {"$gte": now_ms}}
        if held_by is not None:
            live |= {"holder": held_by, "status": HoldStatus.HELD}
        return {str(seat) for seat in await collection(SeatHold).distinct("seat", live)}

    async def holds_per_flight(self, flight_ids: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
        """flight_id -> (cabin, expires_ms) of every seat document (booked, held, or lapsed and not yet swept).

        One equality query per flight: nx-27017 runs `$in` and aggregations through temporary tables, which
        stalled the whole server under concurrent searches (README, Database).
        """
        ids = list(dict.fromkeys(flight_ids))

        async def read(flight_id: str) -> list[tuple[str, int]]:
            return [(doc.get("cabin") or "", int(doc["expires_ms"])) async for doc in collection(SeatHold).find(
                {"flight_id": flight_id}, {"cabin": 1, "expires_ms": 1})]

        results = await asyncio.gather(*(read(fid) for fid in ids))
        return dict(zip(ids, results, strict=True))

    async def transfer_all(self, parts: list[tuple[str, list[str]]], from_holder: str, to_holder: str,
                           booking_id: str, until_ms: int) -> bool:
        """Move `from_holder`'s holds of every (flight, seats) to the booking in ONE bulk write (a conditional
        update per seat); True when every seat moved. A lapsed hold nobody reclaimed is still the holder's
        and moves too. On False some may have moved: the caller gives them back (`give_back`)."""
        requests = [UpdateOne({"seat_key": seat_key(flight_id, seat), "holder": from_holder, "status": HoldStatus.HELD},
                              {"$set": {"holder": to_holder, "booking_id": booking_id, "expires_ms": until_ms}})
                    for flight_id, seats in parts for seat in seats]
        if not requests:
            return True
        result = await collection(SeatHold).bulk_write(requests, ordered=False)
        return result.matched_count == len(requests)

    async def transfer_holds(self, flight_id: str, seats: list[str], from_holder: str, to_holder: str,
                             booking_id: str, until_ms: int, now_ms: int) -> bool:
        """Move `from_holder`'s live holds of `seats` to the booking (all or nothing); False if any was lost.

        One conditional update per seat (no multi-document transaction is relied on); on a miss the seats
        already moved are given back, so the traveller can pick again.
        """
        moved: list[str] = []
        for seat in seats:
            result = await collection(SeatHold).update_one(
                {"seat_key": seat_key(flight_id, seat), "status": HoldStatus.HELD, "expires_ms": {"$gte": now_ms},
                 "holder": from_holder},
                {"$set": {"holder": to_holder, "booking_id": booking_id, "expires_ms": until_ms}},
            )
            if result.matched_count != 1:
                for done in moved:
                    await collection(SeatHold).update_one(
                        {"seat_key": seat_key(flight_id, done), "holder": to_holder, "status": HoldStatus.HELD},
                        {"$set": {"holder": from_holder, "booking_id": None}},
                    )
                return False
            moved.append(seat)
        return True

    async def give_back(self, flight_id: str, seats: list[str], booking: str, to_holder: str,
                        expires_ms: int) -> None:
        """Undo a transfer: the booking's held seats on one flight go back to the traveller until `expires_ms`."""
        for seat in seats:
            await collection(SeatHold).update_one(
                {"seat_key": seat_key(flight_id, seat), "holder": booking, "status": HoldStatus.HELD},
                {"$set": {"holder": to_holder, "booking_id": None, "expires_ms": expires_ms}})

    async def book(self, holder: str, booking_id: str, expected: Iterable[str] = ()) -> set[str]:
        """Held → booked for a paid booking (idempotent); every seat the booking now has booked, as seat keys.

        `expected`: the seat keys it paid for — one bulk write of one conditional update per seat; when each
        matched, that is the answer (one round trip). Otherwise (a seat lost, or no list), every seat the holder
        has is booked and read back, so the caller sees what is missing.
        """
        keys = set(expected)
        fields = {"status": HoldStatus.BOOKED, "expires_ms": BOOKED_FOREVER_MS, "booking_id": booking_id}
        if keys:
            result = await collection(SeatHold).bulk_write(
                [UpdateOne({"seat_key": key, "holder": holder}, {"$set": fields}) for key in sorted(keys)],
                ordered=False)
            if result.matched_count == len(keys):
                return keys
        await collection(SeatHold).update_many({"holder": holder}, {"$set": fields})
        booked = await collection(SeatHold).distinct("seat_key", {"holder": holder, "status": HoldStatus.BOOKED})
        return {str(key) for key in booked}

    async def delete_lapsed_chat_holds(self, now_ms: int) -> int:
        """Housekeeping: lapsed chat holds (already free for `claim`); a booking's holds never lapse."""
        result = await collection(SeatHold).delete_many(
            {"status": HoldStatus.HELD, "booking_id": None, "expires_ms": {"$lt": now_ms}}
        )
        return result.deleted_count

    async def chat_holds_ending_by(self, until_ms: int, limit: int) -> list[SeatHold]:
        """Travellers' (chat) holds that lapse by `until_ms` or already lapsed and are not yet deleted, soonest
        first (the hold alerts: services.hold_alerts)."""
        return await SeatHold.find(
            {"status": HoldStatus.HELD, "booking_id": None, "expires_ms": {"$lte": until_ms}}
        ).sort("expires_ms").limit(limit).to_list()

    async def count_held(self, holder: str, flight_id: str, now_ms: int) -> int:
        """Live seats `holder` holds on a flight."""
        return int(await collection(SeatHold).count_documents(
            {"holder": holder, "flight_id": flight_id, "status": HoldStatus.HELD, "expires_ms": {"$gte": now_ms}}))

    async def count_active(self, now_ms: int) -> int:
        """Unexpired holds not yet booked (a metrics gauge)."""
        return int(await collection(SeatHold).count_documents(
            {"status": HoldStatus.HELD, "expires_ms": {"$gte": now_ms}}
        ))


def _hold_fields(holder: str, cabin: str, token: str, expires_ms: int, booking_id: str | None) -> dict[str, object]:
    """What every hold write sets (a claim's insert adds flight_id, seat and seat_key)."""
    return {"status": HoldStatus.HELD, "holder": holder, "token": token, "expires_ms": expires_ms,
            "booking_id": booking_id, "cabin": cabin}
