"""Personal data's own writes (services.erasure, services.key_rotation): removing it from bookings and what
recorded it, and reading documents raw to re-encrypt them.

Raw documents, not models: a booking is redacted, and a value re-encrypted, without opening what it holds — so
a document under a key the ring lacks is still redacted, and is counted, not fatal, for the rotation. Each write
is conditional on what was read (`redacted_ms` unset; the document unchanged since), so repeats, two replicas
and a traveller's own turn at the same moment are harmless.
"""

from __future__ import annotations

from typing import Any

from beanie import Document, PydanticObjectId

from models.booking import Booking, BookingEvent
from models.ops import Notification, NotificationStatus
from repos.base import collection

# What deciding about a booking's personal data needs (its passengers only for `on_lap` and the rotation).
BOOKING_FIELDS = {"reference": 1, "status": 1, "passengers": 1, "segments": 1, "departs_ms": 1,
                  "return_departs_ms": 1, "redacted_ms": 1, "erase_requested_ms": 1, "updated_ms": 1}
REDACTED_DETAIL = "(personal details removed)"


class PersonalDataRepo:
    # ---- bookings whose personal details may go ----------------------------------------------------
    async def retention_due(self, departed_before_ms: int, limit: int) -> list[dict[str, Any]]:
        """Bookings not redacted whose last way's first flight departed before `departed_before_ms`, oldest first:
        one-way trips by `departs_ms`, return trips by `return_departs_ms` (two simple queries: no `$or`,
        README "Database"). The caller checks the last flight itself (a connection departs later)."""
        found: list[dict[str, Any]] = []
        for query, order in (({"redacted_ms": None, "return_departs_ms": None,
                               "departs_ms": {"$lt": departed_before_ms}}, "departs_ms"),
                             ({"redacted_ms": None, "return_departs_ms": {"$lt": departed_before_ms}},
                              "return_departs_ms")):
            found += [doc async for doc in collection(Booking).find(query, BOOKING_FIELDS).sort(order, 1)
                      .limit(limit)]
        return found

    async def erase_requested(self, limit: int) -> list[dict[str, Any]]:
        """Bookings of travellers who asked to be erased while the trip was ahead, not redacted yet."""
        cursor = collection(Booking).find({"erase_requested_ms": {"$gt": 0}, "redacted_ms": None}, BOOKING_FIELDS)
        return [doc async for doc in cursor.sort("departs_ms", 1).limit(limit)]

    async def of_user(self, user_id: int) -> list[dict[str, Any]]:
        return [doc async for doc in collection(Booking).find({"user_id": user_id}, BOOKING_FIELDS)]

    async def redact(self, booking_id: Any, passengers: list[dict[str, Any]], now_ms: int) -> bool:
        """Names, birth dates, documents, e-mail and phone gone, once: True for the one call that did it."""
        result = await collection(Booking).update_one(
            {"_id": booking_id, "redacted_ms": None},
            {"$set": {"passengers": passengers, "email": "", "redacted_ms": now_ms, "updated_ms": now_ms}})
        return result.modified_count == 1

    async def redact_records(self, booking_id: str, reference: str) -> None:
        """What else recorded the booking's personal details: its history's contact changes, and the chat messages,
        e-mails and texts already sent about it (their key stays, so nothing is sent again). Rows still to send
        are left alone. Equality filters only (nx-27017 mis-reads `$in` in updates)."""
        await collection(BookingEvent).update_many({"booking_id": booking_id, "kind": "contact"},
                                                   {"$set": {"detail": REDACTED_DETAIL}})
        for status in (NotificationStatus.SENT, NotificationStatus.FAILED):
            await collection(Notification).update_many({"booking_reference": reference, "status": status},
                                                       {"$set": {"payload": {"redacted": True}}})

    async def erase_after_trip(self, booking_id: Any, now_ms: int) -> None:
        """The traveller asked to be erased: this booking's details go when its trip is over (the first ask)."""
        await collection(Booking).update_one({"_id": booking_id, "erase_requested_ms": None},
                                             {"$set": {"erase_requested_ms": now_ms}})

    # ---- raw documents for the key rotation ----------------------------------------------------------
    async def batch(self, model: type[Document], after: PydanticObjectId | None, limit: int,
                    projection: dict[str, int]) -> list[dict[str, Any]]:
        """Up to `limit` documents after `after` in `_id` order (a rerun or a crash resumes by scanning again)."""
        query: dict[str, Any] = {"_id": {"$gt": after}} if after is not None else {}
        return [doc async for doc in collection(model).find(query, projection).sort("_id", 1).limit(limit)]

    async def one(self, model: type[Document], document_id: Any, projection: dict[str, int]) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await collection(model).find_one({"_id": document_id}, projection)
        return found

    async def set_if(self, model: type[Document], guard: dict[str, Any], fields: dict[str, Any]) -> bool:
        """`fields` written if the document still matches `guard` (its `_id` and what was read)."""
        result = await collection(model).update_one(guard, {"$set": fields})
        return result.matched_count == 1

    async def delete(self, model: type[Document], document_id: Any) -> None:
        await collection(model).delete_one({"_id": document_id})
