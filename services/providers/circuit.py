"""A circuit breaker per live provider: after repeated failures, stop calling it for a cool-down.

Why: a provider that is down costs every traveller the full timeout (4 s by default) before the local
inventory answers. After `threshold` consecutive failures the breaker opens and the chain goes straight to
the fallback; once `cooldown` has passed one trial call is let through (half-open): success closes the
breaker, failure opens it for another cool-down. Time comes from core.clock.Clock, so tests move time
instead of sleeping.

Hand-written on purpose (issue #13): the libraries (pybreaker, aiobreaker, purgatory) read the system clock
themselves, so tests would sleep or patch time, and none has "a cancelled call is no verdict" (`release`),
which a traveller leaving mid-search needs; the whole state machine is under 70 lines.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from core.clock import Clock


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    def __init__(self, clock: Clock, threshold: int = 3, cooldown: timedelta = timedelta(seconds=60)) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.clock = clock
        self.threshold = threshold
        self.cooldown_ms = int(cooldown.total_seconds() * 1000)
        self.failures = 0
        self.opened_ms: int | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self.opened_ms is None:
            return BreakerState.CLOSED
        if self.clock.now_ms() - self.opened_ms >= self.cooldown_ms:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def retry_in_seconds(self) -> int:
        if self.opened_ms is None:
            return 0
        return max(0, (self.opened_ms + self.cooldown_ms - self.clock.now_ms() + 999) // 1000)

    def allow(self) -> bool:
        """May we call the provider now? In half-open state only one trial runs at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def success(self) -> None:
        self.failures = 0
        self.opened_ms = None
        self._trial_running = False

    def failure(self) -> None:
        self.failures += 1
        if self._trial_running or self.failures >= self.threshold:
            self.opened_ms = self.clock.now_ms()  # (re)open: a failed trial starts a fresh cool-down
        self._trial_running = False

    def release(self) -> None:
        """The call ended without a verdict (cancelled, or a request-level refusal): free the trial slot."""
        self._trial_running = False
