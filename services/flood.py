"""Incoming flood control: a sliding window of update times per user, in this process's memory.

Per replica is enough: its job is to keep one runaway client (or a stuck key) from monopolising a
process's handlers and the bot's outgoing rate limit, not to be an exact global quota. Updates that
are ignored still count, so a client that keeps flooding stays muted until it slows down; a quiet
window always clears it.

Hand-written on purpose (issue #13): aiolimiter (already pinned, for outgoing sends) is one shared leaky bucket
that makes callers wait; flood control needs a per-user verdict now — accept, warn once, drop — on an injected
clock, with memory that follows active users only. That is this one small class.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ACCEPT = "accept"
    WARN = "warn"  # first update over the limit: tell the user once
    DROP = "drop"  # still over the limit: ignore (a button press still gets its "slow down" toast)


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
        if len(seen) > self.limit and now - seen[0] < self.window:
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
