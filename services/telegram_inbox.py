"""No lost taps in webhook mode (issue #21): every update Telegram posts is stored (unique `update_id`) before it
is answered 200, handled from there, and marked done once its handlers finished (bot.app's update processor).

Telegram never redelivers an update it got a 200 for, so an update queued only in memory is lost when the process
dies before handling it. Stored first, it is not: an update still not done a lease after it was claimed belonged
to a process that died — the sweep of any replica takes it over (one wins the conditional claim) and handles it.
A redelivery of an update already stored (our 200 lost on the way) is dropped. An update whose handling crashed
its process MAX_ATTEMPTS times is given up (logged) rather than crashing every replica in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import PyMongoError

from core.clock import Clock
from models.telegram_update import TelegramUpdateRow
from repos.telegram_updates import TelegramUpdateRepo

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
KEEP_DONE_MS = 24 * 3600_000  # done rows are kept a day: a redelivery within that is still recognised
BATCH = 100

Handle = Callable[[dict[str, Any]], Awaitable[None]]  # puts the update's body on the Application's queue


class TelegramInbox:
    def __init__(self, clock: Clock, lease_seconds: int = 60, repo: TelegramUpdateRepo | None = None) -> None:
        self.clock = clock
        self.lease_ms = lease_seconds * 1000  # TELEGRAM_UPDATE_LEASE_SECONDS
        self.repo = repo or TelegramUpdateRepo()
        # Updates this process holds (queued or being handled): their leases are renewed while it lives, so only a
        # dead process's updates are taken over — not those of one that is busy (a queue behind Telegram's send
        # limit can hold an update longer than a lease: found by the replicas test, where live replicas took each
        # other's queued updates and gave them up as "crashed" three times).
        self.held: set[int] = set()
        self.recovered: set[int] = set()  # taken over from a dead process: perhaps applied already (handlers.replay)

    async def receive(self, body: dict[str, Any]) -> bool:
        """Store a posted update, claimed by this process; False for one stored before (drop it)."""
        now = self.clock.now_ms()
        row = TelegramUpdateRow(update_id=int(body["update_id"]), body=body, received_ms=now, claimed_ms=now)
        stored = await self.repo.insert(row)
        if stored:
            self.held.add(row.update_id)
        return stored

    async def finished(self, update_id: int) -> None:
        try:
            await self.repo.finish(update_id)
        finally:  # not marked done, it lapses and is taken over (its replies replayed), not held here for ever
            self.held.discard(update_id)
            self.recovered.discard(update_id)

    async def renew_leases(self) -> int:
        """One write for all the updates this process holds: their leases start again now."""
        if not self.held:
            return 0
        return await self.repo.renew(sorted(self.held), self.clock.now_ms())

    async def keep_leases(self, stop: asyncio.Event) -> None:
        """Renew this process's leases three times a lease until `stop` (bot.runtime runs it beside the pump)."""
        interval = self.lease_ms / 3000
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            try:
                await self.renew_leases()
            except PyMongoError as exc:  # the next round tries again; a lease is three rounds long
                log.warning("could not renew the leases of %s telegram updates: %s", len(self.held), exc)

    async def recover(self, handle: Handle) -> int:
        """Handle again the updates whose process died before finishing them; how many were taken over."""
        now = self.clock.now_ms()
        taken = 0
        for row in await self.repo.stale(now - self.lease_ms, BATCH):
            if row.attempts >= MAX_ATTEMPTS:
                log.error("telegram update %s crashed its handling %s times; given up", row.update_id, row.attempts)
                await self.repo.give_up(row)
                continue
            if await self.repo.reclaim(row, now):
                log.warning("telegram update %s was not handled by the process that received it; handling it now",
                            row.update_id)
                self.held.add(row.update_id)
                self.recovered.add(row.update_id)
                await handle(row.body)
                taken += 1
        await self.repo.forget_done(now - KEEP_DONE_MS)
        return taken
