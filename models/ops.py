"""Operational records: Stripe webhook inbox, notification outbox, payment attempts, admin audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

INBOX_RECEIVED = "received"  # WebhookEvent.outcome until the event's effects are all written


class InboxStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_ms
    CLAIMED = "claimed"  # one worker applies it until lease_until_ms; an expired lease is pending again
    DONE = "done"  # its effects are all written (`outcome`)
    DEAD = "dead"  # failed every retry; the admins were told


@dataclass(frozen=True)
class Finished:
    """An applied inbox event's outcome, written with its worker round's others (PaymentRepo.finish_events)."""

    event_id: str
    outcome: str
    reference: str | None


class WebhookEvent(Document):
    """Inbox: the Stripe route inserts each verified event once (unique event id) and answers; a worker applies it.

    `payload` is the event's `data.object`; `booking_key` orders a booking's events (one at a time, oldest first).
    Rows from before the worker have only event_id/type/received_at/outcome: they read as DONE once they have an
    outcome and are never claimed (no `status` field in the database).
    """

    event_id: str
    type: str
    received_at: datetime
    outcome: str = INBOX_RECEIVED
    booking_reference: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    booking_key: str = ""
    status: InboxStatus = InboxStatus.PENDING
    received_ms: int = 0
    attempts: int = 0
    next_attempt_ms: int = 0
    claimed_by: str = ""
    lease_until_ms: int = 0
    last_error: str = ""
    finished_ms: int | None = None

    class Settings:
        name = "webhook_events"
        indexes = [
            IndexModel([("event_id", ASCENDING)], unique=True),
            IndexModel([("status", ASCENDING), ("next_attempt_ms", ASCENDING)]),
            IndexModel([("booking_key", ASCENDING)]),
        ]


class NotificationStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_ms
    SENDING = "sending"  # claimed by one process until claimed_until_ms
    SENT = "sent"
    FAILED = "failed"  # given up (or the chat blocked the bot)


class Notification(Document):
    """Outbox of side effects (chat messages, e-mails); a sweeper delivers and retries them.

    `key` is unique per logical notification (e.g. "confirm-email:<booking>"), so an effect is queued once.
    """

    key: str
    channel: str  # "chat" | "email" | "admin"
    payload: dict[str, Any]
    status: NotificationStatus = NotificationStatus.PENDING
    attempts: int = 0
    next_attempt_ms: int = 0
    claimed_until_ms: int = 0
    last_error: str = ""
    created_at: datetime
    sent_ms: int | None = None
    booking_reference: str | None = None

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("key", ASCENDING)], unique=True),
            IndexModel([("status", ASCENDING), ("next_attempt_ms", ASCENDING)]),
        ]


class AttemptStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"
    FAILED = "failed"
    COMPLETING = "completing"  # demo checkout only: paid on the page, its webhook event on the way


class PaymentAttempt(Document):
    """One Stripe Checkout Session created for a booking."""

    booking_id: str
    reference: str
    attempt: int
    session_id: str
    url: str
    amount: int
    currency: str
    expires_ms: int
    status: AttemptStatus = AttemptStatus.OPEN
    created_at: datetime

    class Settings:
        name = "payment_attempts"
        indexes = [
            IndexModel([("session_id", ASCENDING)], unique=True),
            IndexModel([("booking_id", ASCENDING), ("attempt", ASCENDING)], unique=True),
        ]


class AuditEntry(Document):
    """Who did what, when, with which outcome: every admin action and every refused attempt."""

    actor_id: int
    action: str
    target: str = ""
    outcome: str
    detail: str = ""
    at: datetime

    class Settings:
        name = "audit"
        indexes = [IndexModel([("at", ASCENDING)])]
