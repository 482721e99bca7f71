"""The ticket-number counter (issue #17): one document per number series, `_id` its name ("ticket")."""

from __future__ import annotations

from beanie import Document


class TicketCounter(Document):
    """`serial`: the last serial handed out in series `id`; raised by an atomic `$inc` (repos.ticket_numbers)."""

    id: str | None = None  # type: ignore[assignment]  # a name, not an ObjectId: one document per series
    serial: int = 0

    class Settings:
        name = "ticket_counters"
