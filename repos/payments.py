"""Payment attempts (`payment_attempts`: one per Stripe Checkout Session) and the Stripe webhook inbox
(`webhook_events`: one per event id, under a unique index)."""

from __future__ import annotations

import contextlib
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from models.ops import INBOX_RECEIVED, AttemptStatus, PaymentAttempt, WebhookEvent
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
    async def receive_event(self, event_id: str, kind: str, received_at: datetime) -> bool:
        """Record a Stripe event before acting on it. True for a redelivery whose first delivery finished (its
        outcome is written): nothing left to do. A half-finished one gets False and is finished now."""
        try:
            await WebhookEvent(event_id=event_id, type=kind, received_at=received_at).insert()
        except DuplicateKeyError:
            seen = await WebhookEvent.find_one(WebhookEvent.event_id == event_id)
            return seen is not None and seen.outcome != INBOX_RECEIVED
        return False

    async def finish_event(self, event_id: str, outcome: str, reference: str | None) -> None:
        """The event's effects are all written: a redelivery now stops at the inbox."""
        await collection(WebhookEvent).update_one(
            {"event_id": event_id}, {"$set": {"outcome": outcome, "booking_reference": reference}})

