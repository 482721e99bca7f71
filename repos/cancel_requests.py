"""Cancellation requests (`cancel_requests`): inserted by /cancel REF, claimed once by "Yes, cancel"."""

from __future__ import annotations

from models.cancel_request import CancelRequest
from repos.base import collection, object_id


class CancelRequestRepo:
    async def add(self, request: CancelRequest) -> CancelRequest:
        await request.insert()
        return request

    async def get(self, request_id: str) -> CancelRequest | None:
        """The request, or None for an unknown or malformed id (ids come from buttons)."""
        found = object_id(request_id)
        return await CancelRequest.get(found) if found is not None else None

    async def claim(self, request: CancelRequest, now_ms: int) -> bool:
        """True for exactly one caller: the tap that carries the cancellation out (25 taps, two replicas)."""
        claimed = await collection(CancelRequest).update_one(
            {"_id": request.id, "used_ms": None, "expires_ms": {"$gte": now_ms}}, {"$set": {"used_ms": now_ms}})
        return claimed.modified_count == 1

    async def close(self, request: CancelRequest, now_ms: int) -> None:
        """"Keep it": the card can no longer cancel."""
        await collection(CancelRequest).update_one({"_id": request.id, "used_ms": None}, {"$set": {"used_ms": now_ms}})
