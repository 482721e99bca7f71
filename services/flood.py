"""Incoming flood control: more than N updates from one user within a window → warn once, then drop.

Two gates with one verdict (issue #21):
- `FloodGate`: a sliding window of update times per user in this process's memory. Enough for one FlyO (the
  embedded database, the terminal chat): no round trip.
- `SharedFloodGate`: the same window in MongoDB (`flood_windows`), so a client whose updates are spread over
  replicas by the proxy is counted once. One conditional write per update, which also returns the window; a second
  one only when the user is over the limit, to pick the one replica that sends the notice. If the database fails,
  this process's own window decides (the update's handlers will meet the same database anyway).

Updates that are ignored still count, so a client that keeps flooding stays muted until it slows down; a quiet
window always clears it.

Hand-written on purpose (issue #13): aiolimiter (already pinned, for outgoing sends) is one shared leaky bucket
that makes callers wait; flood control needs a per-user verdict now — accept, warn once, drop — on an injected
clock, with memory that follows active users only.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Protocol

from pymongo.errors import PyMongoError

from repos.flood import FloodWindows

log = logging.getLogger(__name__)


class Verdict(Enum):
    ACCEPT = "accept"
    WARN = "warn"  # first update over the limit: tell the user once
    DROP = "drop"  # still over the limit: ignore (a button press still gets its "slow down" toast)


class Gate(Protocol):
    limit: int
    window: float

    async def verdict(self, user_id: int) -> Verdict: ...


class FloodGate:
    """More than `limit` updates from one user within `window` seconds → WARN once, then DROP."""

    PRUNE_EVERY = 1024  # checks between sweeps of idle users, so memory follows active users only

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._checks = 0

    async def verdict(self, user_id: int) -> Verdict:
        return self.check(user_id)

    def check(self, user_id: int) -> Verdict:
        now = self._clock()
        seen = self._seen.get(user_id)
        if seen is None:
            # limit + 1 timestamps decide "more than limit within window" exactly, in bounded memory.
            seen = self._seen[user_id] = deque(maxlen=self.limit + 1)
        seen.append(now)
        self._checks += 1
        if self._checks % self.PRUNE_EVERY == 0:
            self._prune(now)
        if over_limit(seen, now, self.limit, self.window):
            if user_id in self._warned:
                return Verdict.DROP
            self._warned.add(user_id)
            return Verdict.WARN
        self._warned.discard(user_id)
        return Verdict.ACCEPT

    def _prune(self, now: float) -> None:
        idle = [user for user, seen in self._seen.items() if now - seen[-1] >= self.window]
        for user in idle:
            del self._seen[user]
            self._warned.discard(user)

    @property
    def tracked_users(self) -> int:
        return len(self._seen)


def over_limit(times: Sequence[float], now: float, limit: int, window: float) -> bool:
    """The rule both gates apply: the last `limit` + 1 updates (oldest first) all fell within the window."""
    return len(times) > limit and now - times[0] < window


class SharedFloodGate:
    """`FloodGate`'s verdict from a window every replica writes to. The clock is the wall clock (time.time): the
    replicas' monotonic clocks don't compare, and their wall clocks agree far better than a 10 s window needs."""

    def __init__(self, limit: int, window: float, repo: FloodWindows | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window
        self.repo = repo or FloodWindows()
        self._clock = clock
        self.fallback = FloodGate(limit, window, clock)  # while the database fails
        self._degraded = False  # logged once per outage, not once per update

    async def verdict(self, user_id: int) -> Verdict:
        now = self._clock()
        try:
            times = await self.repo.note(user_id, now, keep=self.limit + 1, idle_after=self.window)
            over = over_limit(times, now, self.limit, self.window)
            # At most one notice per window, from whichever replica claims it first.
            noticed = over and await self.repo.claim_notice(user_id, now, until=now + self.window)
        except PyMongoError as exc:
            if not self._degraded:
                log.warning("flood control: the shared window is unreachable (%s); this process's own decides", exc)
            self._degraded = True
            return self.fallback.check(user_id)
        if self._degraded:
            log.warning("flood control: the shared window is back")
            self._degraded = False
        if not over:
            return Verdict.ACCEPT
        return Verdict.WARN if noticed else Verdict.DROP

    async def forget_idle(self) -> int:
        """The sweep's part: rows of users quiet for a whole window go."""
        return await self.repo.forget_idle(self._clock())
