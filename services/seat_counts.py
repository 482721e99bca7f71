"""Seat counts ("N left") kept in memory per flight, for the search results (issue #16: a search read every
flight's holds, one query per flight shown).

A flight's counts stay right until (a) a seat of that flight is claimed or released — SeatService drops the
entry on each such write (`forget`; a write whose flights are unknown, such as freeing a holder's seats,
drops everything), or (b) the earliest unexpired *chat* hold among them lapses (their expiry is read with the
counts). A booking's hold never lapses by time. Coherent only when this process is the one writing seat holds
on its database — the embedded database (DATA_DIR lock: one FlyO) — so it is off with MONGODB_URI unless
SEAT_COUNT_CACHE says otherwise. Seat holds themselves are always decided by the database (repos.seats).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from models.seat import BOOKED_FOREVER_MS

MAX_FLIGHTS = 4096  # entries kept (least recently used dropped): ~1 KB each


@dataclass(frozen=True)
class Counted:
    per_cabin: dict[str, int]  # cabin → seats taken (booked or held unexpired)
    valid_until_ms: int  # the earliest lapse of a counted chat hold (BOOKED_FOREVER_MS: none lapses)


def counted(holds: list[tuple[str, int]], now_ms: int) -> Counted:
    """Counts of (cabin, expires_ms) holds read at `now_ms`, valid until the first live one lapses."""
    per_cabin: dict[str, int] = {}
    valid_until = BOOKED_FOREVER_MS
    for cabin, expires_ms in holds:
        if expires_ms >= now_ms:
            per_cabin[cabin] = per_cabin.get(cabin, 0) + 1
            valid_until = min(valid_until, expires_ms + 1)  # counted until now > expires_ms
    return Counted(per_cabin, valid_until)


class SeatCountCache:
    def __init__(self, enabled: bool, size: int = MAX_FLIGHTS) -> None:
        self.enabled = enabled
        self.size = size
        self._entries: OrderedDict[str, Counted] = OrderedDict()
        # Bumped by every `forget` (after the write): counts read before a write of theirs are not kept after it.
        self._all = 0
        self._per_flight: dict[str, int] = {}

    def get(self, flight_id: str, now_ms: int) -> dict[str, int] | None:
        entry = self._entries.get(flight_id)
        if entry is None or now_ms >= entry.valid_until_ms:
            return None
        self._entries.move_to_end(flight_id)
        return dict(entry.per_cabin)

    def version(self, flight_id: str) -> tuple[int, int]:
        """Taken before reading a flight's counts; `put` keeps them only if no seat of it was written since."""
        return self._all, self._per_flight.get(flight_id, 0)

    def put(self, flight_id: str, entry: Counted, read_at: tuple[int, int]) -> None:
        if not self.enabled or read_at != self.version(flight_id):
            return
        self._entries[flight_id] = entry
        self._entries.move_to_end(flight_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, flight_id: str | None = None) -> None:
        """A seat of `flight_id` (None: of any flight) was written; called once the write is done."""
        if flight_id is None or len(self._per_flight) >= 4 * self.size:
            self._all += 1
            self._per_flight.clear()
            self._entries.clear()
        else:
            self._per_flight[flight_id] = self._per_flight.get(flight_id, 0) + 1
            self._entries.pop(flight_id, None)
