"""The reads behind the admins' dashboard (miniapp /app/dashboard/): bookings to export, seats per flight, the
inbox's, outbox's and payment attempts' states, and the latest audit entries.

Equality counts and plain finds rather than aggregations: nx-27017 answers a single-field equality from its
index, scans for `$in`, and compares datetimes wrongly inside an aggregation's `$match` (repos.bookings
`created_since`). Each is one round trip; the dashboard makes about a dozen per load.
"""

from __future__ import annotations

from datetime import datetime

from models.booking import Booking
from models.ops import (
    AuditEntry,
    InboxStatus,
    Notification,
    NotificationStatus,
    PaymentAttempt,
    WebhookEvent,
)
from models.seat import HoldStatus, SeatHold
from repos.base import collection


class DashboardRepo:
    async def bookings_since(self, since: datetime, limit: int) -> list[Booking]:
        """Bookings created since `since`, newest first (the CSV export), at most `limit`."""
        return await Booking.find({"created_at": {"$gte": since}}).sort("-created_at").limit(limit).to_list()

    async def seats_per_flight(self, now_ms: int) -> dict[str, tuple[int, int]]:
        """flight id → (seats booked, seats held and not lapsed), over every flight with any.

        Booked seats never lapse (models.seat.BOOKED_FOREVER_MS), so one range on the `expires_ms` index finds
        both; only the two fields needed come back."""
        found: dict[str, tuple[int, int]] = {}
        async for doc in collection(SeatHold).find({"expires_ms": {"$gte": now_ms}},
                                                    {"flight_id": 1, "status": 1, "_id": 0}):
            booked, held = found.get(str(doc["flight_id"]), (0, 0))
            if doc.get("status") == HoldStatus.BOOKED:
                booked += 1
            else:
                held += 1
            found[str(doc["flight_id"])] = (booked, held)
        return found

    async def inbox_by_status(self) -> dict[str, int]:
        """Stripe webhook events per inbox state (one indexed count each)."""
        events = collection(WebhookEvent)
        return {status.value: int(await events.count_documents({"status": status.value})) for status in InboxStatus}

    async def outbox_health(self) -> dict[str, int]:
        """Notifications waiting, being sent, given up, and retried (sent more than once)."""
        notes = collection(Notification)
        counts = {status.value: int(await notes.count_documents({"status": status.value}))
                  for status in (NotificationStatus.PENDING, NotificationStatus.SENDING, NotificationStatus.FAILED)}
        counts["retried"] = int(await notes.count_documents({"attempts": {"$gt": 1}}))
        return counts

    async def attempts_since(self, since: datetime) -> list[tuple[str, str]]:
        """(session id, status) of the Checkout Sessions created since `since`."""
        return [(str(doc.get("session_id")), str(doc.get("status"))) async for doc in collection(PaymentAttempt).find(
            {"created_at": {"$gte": since}}, {"session_id": 1, "status": 1, "_id": 0})]

    async def latest_audit(self, limit: int) -> list[AuditEntry]:
        """The newest audit entries first (the `at` index)."""
        return await AuditEntry.find_all().sort("-at").limit(limit).to_list()
