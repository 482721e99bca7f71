"""Confirmation cards that act once: a request document written when the card is shown, claimed by one
conditional update when its "Yes" is tapped (25 taps, two replicas: one claim), or closed by its "No".

The model needs `used_ms: int | None` and `expires_ms: int`. Used by /cancel REF's card (`cancel_requests`) and
the admins' flight status cards (`flight_action_requests`)."""

from __future__ import annotations

from typing import Generic, TypeVar

from beanie import Document

from repos.base import collection, object_id

Request = TypeVar("Request", bound=Document)


class OneTimeRequests(Generic[Request]):
    def __init__(self, model: type[Request]) -> None:
        self.model = model

    async def add(self, request: Request) -> Request:
        await request.insert()
        return request

    async def get(self, request_id: str) -> Request | None:
        """The request, or None for an unknown or malformed id (ids come from buttons)."""
        found = object_id(request_id)
        return await self.model.get(found) if found is not None else None

    async def claim(self, request: Request, now_ms: int) -> bool:
        """True for exactly one caller: the tap that carries the request out (before it expires)."""
        claimed = await collection(self.model).update_one(
            {"_id": request.id, "used_ms": None, "expires_ms": {"$gte": now_ms}}, {"$set": {"used_ms": now_ms}})
        return claimed.modified_count == 1

    async def close(self, request: Request, now_ms: int) -> None:
        """"No": the card can no longer act."""
        await collection(self.model).update_one({"_id": request.id, "used_ms": None}, {"$set": {"used_ms": now_ms}})
