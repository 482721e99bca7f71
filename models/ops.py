"""Operational records: Stripe webhook inbox, notification outbox, payment attempts, admin audit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pymongo import ASCENDING, IndexModel

INBOX_RECEIVED = "received"  # WebhookEvent.outcome until the event's effects are all written


class WebhookEvent(Document):
    """Inbox: the unique event id is inserted before acting, so a redelivery is recognised and skipped."""

    event_id: str
    type: str
    received_at: datetime
    outcome: str = INBOX_RECEIVED
    booking_reference: str | None = None

    class Settings:
        name = "webhook_events"
        indexes = [IndexModel([("event_id", ASCENDING)], unique=True)]


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
