"""The loop shared by the notification pump and the inbox worker: work now when kicked, else every few seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class WakeUp:
    """`kick()` from whoever just queued work (a webhook, a state change) wakes the loop at once; the idle
    timeout catches work queued by another process or left behind by a crash."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def kick(self) -> None:
        self._event.set()

    async def loop(self, stop: asyncio.Event, idle_seconds: float, work: Callable[[], Awaitable[bool]],
                   what: str) -> None:
        """Run `work` until `stop` is set; `work` returns True when more may be due at once (no pause)."""
        while not stop.is_set():
            self._event.clear()
            try:
                if await work():
                    continue
            except Exception:
                log.warning("%s round failed; will retry", what, exc_info=True)
            waiter = asyncio.ensure_future(self._event.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()
