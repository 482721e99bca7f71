"""The worker applies different bookings side by side, and one booking's events strictly one after another."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from core.database import Database
from services.inbox import StripeInbox
from tests.paying import paying_bot


class RecordingApplier:
    """Slow applies that record how many run at once, overall and per booking."""

    def __init__(self) -> None:
        self.running: dict[str, int] = {}
        self.most_at_once = 0
        self.most_per_booking = 0
        self.order: list[str] = []

    async def apply(self, kind: str, obj: dict[str, Any]) -> tuple[str, str | None]:
        key = str(obj["metadata"]["booking_id"])
        self.running[key] = self.running.get(key, 0) + 1
        self.most_at_once = max(self.most_at_once, sum(self.running.values()))
        self.most_per_booking = max(self.most_per_booking, self.running[key])
        await asyncio.sleep(0.02)  # a database round trip's worth: lets the others start if they may
        self.order.append(str(obj["id"]))
        self.running[key] -= 1
        return "confirmed", None


def _event(number: int, booking: str) -> dict[str, Any]:
    session = {"id": f"cs_{booking}_{number}", "object": "checkout.session", "metadata": {"booking_id": booking}}
    return {"id": f"evt_{booking}_{number}", "type": "checkout.session.completed", "data": {"object": session}}


async def test_bookings_in_parallel_each_in_order(inventory_db: Database, telegram: Any, tmp_path: Path) -> None:
    applier = RecordingApplier()
    async with paying_bot(inventory_db, telegram, tmp_path, INBOX_WORKER_ENABLED=False) as paying:
        real = paying.services.payment_events.inbox
        inbox = StripeInbox(real.clock, applier, real.notifications, real.handled, real.repo)
        for number in range(3):
            for booking in ("b1", "b2", "b3", "b4"):
                assert await inbox.receive(_event(number, booking)) == "queued"
        attempted = 0
        while (done := await inbox.process_due()) > 0:
            attempted += done
    assert attempted == 12
    assert applier.most_at_once > 1  # side by side
    assert applier.most_per_booking == 1  # never two of one booking at once
    for booking in ("b1", "b2", "b3", "b4"):
        assert [e for e in applier.order if f"_{booking}_" in e] == [f"cs_{booking}_{n}" for n in range(3)]
