"""A cancellation asked for and waiting for its "Yes, cancel": what the confirmation card showed, used once."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from beanie import Document
from pymongo import ASCENDING, IndexModel


class CancelRequest(Document):
    """Written when /cancel REF shows its card; the card's buttons carry this document's id (a free-text reason
    would not fit Telegram's 64-byte callback data). `used_ms` is set by one conditional update: the one tap that
    cancels."""

    booking_id: str
    reference: str
    requested_by: int  # the Telegram user who asked; only they may confirm
    actor: str  # "user:<id>" or "admin:<id>", as the booking's history records it
    internal_reason: str = ""  # an admin's words: audit log and booking history only
    message_to_traveller: str = ""  # an admin's optional words for the traveller
    refund_shown: int = 0  # the refund the card promised (minor units of the booking's currency)
    created_at: datetime
    expires_ms: int
    used_ms: int | None = None

    class Settings:
        name = "cancel_requests"
        indexes: ClassVar[list[IndexModel]] = [IndexModel([("expires_ms", ASCENDING)])]
