"""Payment attempts (`payment_attempts`: one per Stripe Checkout Session) and the Stripe webhook inbox
(`webhook_events`: one per event id, under a unique index; pending → claimed (lease) → done | dead, or back to
pending with a later `next_attempt_ms`; every move is a conditional update on the state it expects)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from models.ops import INBOX_RECEIVED, AttemptStatus, Finished, InboxStatus, PaymentAttempt, WebhookEvent
from repos.base import collection


class PaymentRepo:
    # ---- attempts ----------------------------------------------------------------------------------------
    async def record_attempt(self, attempt: PaymentAttempt) -> None:
        """Once per session (unique `session_id`) and per booking and number: a concurrent tap's copy is dropped."""
        with contextlib.suppress(DuplicateKeyError):
            await attempt.insert()

    async def attempt(self, session_id: str) -> PaymentAttempt | None:
        return await PaymentAttempt.find_one(PaymentAttempt.session_id == session_id)

    async def attempts(self, booking_id: str) -> list[PaymentAttempt]:
        return await PaymentAttempt.find(PaymentAttempt.booking_id == booking_id).sort("attempt").to_list()

    async def mark_attempt(self, session_id: str, status: AttemptStatus) -> None:
        """What Stripe said about the session (paid, expired, failed), whatever it was before."""
        await collection(PaymentAttempt).update_one({"session_id": session_id}, {"$set": {"status": status}})

    async def expire_open_attempt(self, session_id: str) -> None:
        """Only an open session expires; a paid one stays paid (as Stripe answers "already complete")."""
        await collection(PaymentAttempt).update_one({"session_id": session_id, "status": AttemptStatus.OPEN},
                                                    {"$set": {"status": AttemptStatus.EXPIRED}})

    async def claim_demo_payment(self, session_id: str, now_ms: int) -> bool:
        """The demo checkout page's Pay: open and unexpired → completing, for exactly one POST."""
        claimed = await collection(PaymentAttempt).update_one(
            {"session_id": session_id, "status": AttemptStatus.OPEN, "expires_ms": {"$gt": now_ms}},
            {"$set": {"status": AttemptStatus.COMPLETING}})
        return claimed.modified_count == 1

    async def reopen_demo_payment(self, session_id: str) -> None:
        """The demo payment's webhook was refused: the session is payable again, like a declined card."""
        await collection(PaymentAttempt).update_one({"session_id": session_id, "status": AttemptStatus.COMPLETING},
                                                    {"$set": {"status": AttemptStatus.OPEN}})

    # ---- webhook inbox -----------------------------------------------------------------------------------
    async def store_event(self, entry: WebhookEvent) -> bool:
        """Insert a received event: one round trip. False when its id is in the inbox already (a redelivery),
        answered from the unique index's DuplicateKeyError without reading anything."""
        try:
            await entry.insert()
        except DuplicateKeyError:
            return False
        return True

    async def forget_legacy_unfinished(self) -> int:
        """Rows stored before the worker existed whose apply never finished (no `status`, outcome still
        "received") hold no payload to apply: delete them so Stripe's next retry of the event is stored anew."""
        gone = await collection(WebhookEvent).delete_many({"status": {"$exists": False}, "outcome": INBOX_RECEIVED})
        return gone.deleted_count

    async def event(self, event_id: str) -> WebhookEvent | None:
        return await WebhookEvent.find_one(WebhookEvent.event_id == event_id)

    async def due_events(self, now_ms: int, limit: int) -> list[WebhookEvent]:
        """Pending events whose next attempt is due, oldest first."""
        return await WebhookEvent.find(
            {"status": InboxStatus.PENDING, "next_attempt_ms": {"$lte": now_ms}}
        ).sort("+received_ms", "+_id").limit(limit).to_list()

    async def unfinished_not_due(self, now_ms: int) -> list[WebhookEvent]:
        """Events that are not done and not due: claimed by a worker, or pending until a later retry (the round's
        ordering reads them once; `booking_key` and `received_ms` are what it needs). Two equality queries
        instead of `$in` (nx-27017 scans for `$in`)."""
        claimed = await WebhookEvent.find({"status": InboxStatus.CLAIMED}).to_list()
        waiting = await WebhookEvent.find({"status": InboxStatus.PENDING, "next_attempt_ms": {"$gt": now_ms}}).to_list()
        return claimed + waiting

    async def claim_event(self, entry: WebhookEvent, now_ms: int, worker: str, lease_until_ms: int) -> bool:
        """pending and due → claimed by `worker` until `lease_until_ms`. The `attempts` in the filter makes a
        stale read lose: exactly one of any number of workers gets each attempt."""
        claimed = await collection(WebhookEvent).update_one(
            {"event_id": entry.event_id, "status": InboxStatus.PENDING, "attempts": entry.attempts,
             "next_attempt_ms": {"$lte": now_ms}},
            {"$set": {"status": InboxStatus.CLAIMED, "claimed_by": worker, "lease_until_ms": lease_until_ms}})
        return claimed.modified_count == 1

    async def release_expired_leases(self, now_ms: int) -> int:
        """Events claimed by a worker that died (kill -9, lost host) are pending again once the lease ran out."""
        released = await collection(WebhookEvent).update_many(
            {"status": InboxStatus.CLAIMED, "lease_until_ms": {"$lt": now_ms}},
            {"$set": {"status": InboxStatus.PENDING, "claimed_by": ""}})
        return released.modified_count

    async def finish_events(self, finished: Iterable[Finished], *, worker: str, now_ms: int) -> None:
        """The events' effects are all written: done, each with its outcome, in one bulk write. Only the claim's
        holder finishes an event (a lost lease's late outcome changes nothing)."""
        await collection(WebhookEvent).bulk_write([UpdateOne(
            {"event_id": done.event_id, "status": InboxStatus.CLAIMED, "claimed_by": worker},
            {"$set": {"status": InboxStatus.DONE, "outcome": done.outcome, "booking_reference": done.reference,
                      "finished_ms": now_ms}}) for done in finished], ordered=False)

    async def retry_event(self, event_id: str, worker: str, *, attempts: int, error: str,
                          next_attempt_ms: int | None, now_ms: int) -> bool:
        """claimed → pending again at `next_attempt_ms`, or → dead when that is None. False when the claim was
        lost meanwhile (the lease ran out and another worker has it)."""
        fields: dict[str, object] = {"attempts": attempts, "last_error": error, "claimed_by": ""}
        if next_attempt_ms is None:
            fields.update(status=InboxStatus.DEAD, finished_ms=now_ms)
        else:
            fields.update(status=InboxStatus.PENDING, next_attempt_ms=next_attempt_ms)
        moved = await collection(WebhookEvent).update_one(
            {"event_id": event_id, "status": InboxStatus.CLAIMED, "claimed_by": worker}, {"$set": fields})
        return moved.modified_count == 1
