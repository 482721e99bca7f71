"""The one source of "now", so tests move time forward instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """UTC wall clock with an adjustable offset (zero in production)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def now_ms(self) -> int:
        return to_ms(self.now())

    def advance(self, delta: timedelta) -> None:
        """Move time forward (tests and the console's demo only)."""
        self._offset += delta


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds: how FlyO stores timestamps that change after insert (see README, Database)."""
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: MongoDB hands datetimes back naive, and they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
