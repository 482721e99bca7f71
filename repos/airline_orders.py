"""Airline orders (`airline_orders`: one per booking under a unique index, holding every live segment). Every
move is a conditional update on the state it expects, so two workers (or a webhook delivered twice) never both
call Amadeus for one booking: pending → (calling) → created | failed, created → cancelled; pending (not calling)
→ cancelled.

nx-27017: `update_one` whose `matched_count` is the claim (no `find_one_and_update`), times as epoch ms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from models.airline_order import AirlineOrder, AirlineOrderStatus
from repos.base import collection


class AirlineOrderRepo:
    async def claim(self, booking_id: str, reference: str, now: datetime, now_ms: int) -> bool:
        """Insert the booking's order row (PENDING); False when it already exists."""
        try:
            await AirlineOrder(booking_id=booking_id, reference=reference, created_at=now,
                               updated_ms=now_ms).insert()
        except DuplicateKeyError:
            return False
        return True

    async def get(self, booking_id: str) -> AirlineOrder | None:
        return await AirlineOrder.find_one(AirlineOrder.booking_id == booking_id)

    async def start_call(self, order: AirlineOrder, now_ms: int) -> bool:
        """PENDING, nobody calling, due → calling (attempts + 1): the right to send one Create Orders request."""
        moved = await collection(AirlineOrder).update_one(
            {"booking_id": order.booking_id, "status": AirlineOrderStatus.PENDING, "calling_ms": None,
             "attempts": order.attempts, "next_attempt_ms": {"$lte": now_ms}},
            {"$set": {"calling_ms": now_ms, "attempts": order.attempts + 1, "updated_ms": now_ms}})
        return moved.matched_count == 1

    async def end_call(self, booking_id: str, error: str, next_attempt_ms: int, now_ms: int) -> bool:
        """Amadeus answered that it made nothing: not calling any more, try again from `next_attempt_ms`."""
        return await self._move(booking_id, AirlineOrderStatus.PENDING, {
            "calling_ms": None, "last_error": error, "next_attempt_ms": next_attempt_ms, "updated_ms": now_ms})

    async def created(self, booking_id: str, order_id: str, pnrs: list[str], legs: list[int], now_ms: int) -> bool:
        """PENDING → CREATED: the one order of the whole trip (`legs`: the booking's segments it holds)."""
        return await self._move(booking_id, AirlineOrderStatus.PENDING, {
            "status": AirlineOrderStatus.CREATED, "order_id": order_id, "pnr": pnrs[0] if pnrs else None,
            "pnrs": pnrs, "segments": legs, "calling_ms": None, "last_error": None, "updated_ms": now_ms})

    async def failed(self, booking_id: str, error: str, now_ms: int) -> bool:
        return await self._move(booking_id, AirlineOrderStatus.PENDING, {
            "status": AirlineOrderStatus.FAILED, "last_error": error, "updated_ms": now_ms})

    async def cancelled(self, booking_id: str, now_ms: int) -> bool:
        """CREATED → CANCELLED (the order was deleted in Amadeus)."""
        return await self._move(booking_id, AirlineOrderStatus.CREATED, {
            "status": AirlineOrderStatus.CANCELLED, "last_error": None, "updated_ms": now_ms})

    async def withdraw(self, booking_id: str, now_ms: int) -> bool:
        """PENDING and nobody calling → CANCELLED: the booking was cancelled before its order was made."""
        moved = await collection(AirlineOrder).update_one(
            {"booking_id": booking_id, "status": AirlineOrderStatus.PENDING, "calling_ms": None},
            {"$set": {"status": AirlineOrderStatus.CANCELLED, "updated_ms": now_ms}})
        return moved.matched_count == 1

    async def note_error(self, booking_id: str, error: str, now_ms: int) -> None:
        await collection(AirlineOrder).update_one(
            {"booking_id": booking_id}, {"$set": {"last_error": error, "updated_ms": now_ms}})

    async def _move(self, booking_id: str, expected: AirlineOrderStatus, fields: dict[str, Any]) -> bool:
        moved = await collection(AirlineOrder).update_one({"booking_id": booking_id, "status": expected},
                                                          {"$set": fields})
        return moved.matched_count == 1
