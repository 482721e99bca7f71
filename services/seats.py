"""Seat holds: one document per taken seat, claimed by a single conditional write (repos.seats).

A traveller's (chat) hold is free again once it expired (`expires_ms < now`); expiry is checked at
hold time, so correctness never depends on the sweeper. A booking's hold is never reclaimed by
anyone: it lives until its booking is cancelled (the sweep asks Stripe first), because a payment
may complete at the last second and its webhook arrive late. Exactly one writer can win a seat.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable, Iterator

from core.clock import Clock
from core.errors import SeatUnavailable
from repos.seats import SeatRepo
from services import day_counts
from services.seat_counts import SeatCountCache, counted

CHAT_HOLDER = "chat:"


def chat_holder(chat_id: int) -> str:
    return f"{CHAT_HOLDER}{chat_id}"


def booking_holder(booking_id: str) -> str:
    return f"booking:{booking_id}"


class SeatService:
    def __init__(self, clock: Clock, hold_minutes: int, repo: SeatRepo | None = None, *,
                 cache_counts: bool = False) -> None:
        self.clock = clock
        self.hold_ms = hold_minutes * 60_000
        self.repo = repo or SeatRepo()
        # "N left" per flight in memory (services.seat_counts): on only where this process is the one writer.
        self.counts = SeatCountCache(cache_counts)

    @contextlib.contextmanager
    def _writing(self, flight_id: str | None = None) -> Iterator[None]:
        """Around every write that can change a flight's taken seats: its cached counts go once it is done."""
        try:
            yield
        finally:
            self.counts.forget(flight_id)

    async def hold(self, flight_id: str, seat: str, holder: str, cabin: str = "", *, mine: bool | None = None,
                   booking_id: str | None = None, until_ms: int | None = None) -> int:
        """Hold `seat` for `holder`; returns the expiry (epoch ms) or raises SeatUnavailable.

        `mine` says which write is likely to do it, so the usual case is one round trip:
        - True: the holder held it a moment ago (Continue, confirm): refresh its own hold, else claim (lapsed and
          taken over by nobody yet, or deleted by the sweep).
        - None (don't know, e.g. a tap that may be a replayed step's): claim, else refresh an own live hold.
        - False: the seat is known not to be the holder's (a replacement picked among free seats): claim only.
        `booking_id`/`until_ms`: a booking's hold, written with its id and final expiry in that same write.
        """
        now = self.clock.now_ms()
        expires = until_ms if until_ms is not None else now + self.hold_ms
        token = secrets.token_hex(8)  # identifies this hold in logs and diagnostics

        async def claim() -> bool:
            return await self.repo.claim(flight_id, seat, holder, cabin=cabin, token=token, expires_ms=expires,
                                         now_ms=now, booking_id=booking_id)

        async def refresh() -> bool:
            return await self.repo.refresh(flight_id, seat, holder, cabin=cabin, token=token, expires_ms=expires,
                                           booking_id=booking_id)

        with self._writing(flight_id):
            if mine is True:
                won = await refresh() or await claim()
            elif mine is None:
                won = await self.repo.claim_or_refresh(flight_id, seat, holder, cabin=cabin, token=token,
                                                       expires_ms=expires, now_ms=now, booking_id=booking_id)
            else:
                won = await claim()
        if not won:
            raise SeatUnavailable(seat)
        if mine is not True and holder.startswith(CHAT_HOLDER):
            # The dashboard's funnel (searches → seats held → bookings): counted in memory, written by the sweep,
            # so a hold keeps its one round trip. A refresh of the traveller's own hold (mine=True) is no new one.
            day_counts.count(day_counts.SEAT_HOLDS, self.clock.now())
        return expires

    async def release(self, flight_id: str, seat: str, holder: str) -> bool:
        with self._writing(flight_id):
            return await self.repo.release(flight_id, seat, holder)

    async def release_holder(self, holder: str) -> int:
        """Free every seat `holder` holds (not booked ones)."""
        with self._writing():
            return await self.repo.release_held(holder)

    async def taken(self, flight_id: str, holder: str | None = None) -> dict[str, str]:
        """Seat -> "mine" | "taken" for seats that are booked or held (unexpired) on this flight."""
        now = self.clock.now_ms()
        seats = await self.repo.live_seats(flight_id, now)
        mine = await self.repo.live_seats(flight_id, now, held_by=holder) if holder is not None else set()
        return {seat: "mine" if seat in mine else "taken" for seat in seats}

    async def taken_seats(self, flight_id: str) -> set[str]:
        """Seats booked or held (unexpired) on this flight, whoever has them: one query (what a map draws)."""
        return await self.repo.live_seats(flight_id, self.clock.now_ms())

    async def taken_counts(self, flight_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """flight_id -> cabin -> seats taken (booked or held unexpired); from memory where still right."""
        now = self.clock.now_ms()
        ids = list(dict.fromkeys(flight_ids))
        found = {fid: cached for fid in ids if (cached := self.counts.get(fid, now)) is not None}
        missing = [fid for fid in ids if fid not in found]
        if missing:
            read_at = {fid: self.counts.version(fid) for fid in missing}
            for fid, holds in (await self.repo.holds_per_flight(missing)).items():
                entry = counted(holds, now)
                self.counts.put(fid, entry, read_at[fid])
                found[fid] = dict(entry.per_cabin)
        return {fid: found[fid] for fid in ids}

    async def transfer(self, parts: list[tuple[str, list[str]]], from_holder: str, booking_id: str,
                       until_ms: int, *, cabins: list[str] | None = None) -> SeatUnavailable | None:
        """Move the traveller's holds on every flight (flight id, seats) to the booking, all or nothing.

        One bulk write when every seat is still the traveller's. Otherwise what moved goes back, a lapsed hold
        deleted by the sweep is taken again if still free (`cabins`: each flight's cabin, for that hold), and
        the seats move flight by flight. Returns the first lost seat (nothing moved: flights already moved are
        given back to the traveller for a fresh hold period), or None when every seat now belongs to the booking.
        """
        to = booking_holder(booking_id)
        try:
            if await self.repo.transfer_all(parts, from_holder, to, booking_id, until_ms):
                return None
            fresh = self.clock.now_ms() + self.hold_ms
            for (flight_id, seats), cabin in zip(parts, cabins or [""] * len(parts), strict=True):
                await self.repo.give_back(flight_id, seats, to, from_holder, fresh)
                for seat in seats:
                    try:
                        await self.hold(flight_id, seat, from_holder, cabin, mine=True)
                    except SeatUnavailable as lost:
                        return SeatUnavailable(lost.seat, flight_id)
            return await self._transfer(parts, from_holder, to, booking_id, until_ms)
        finally:
            for flight_id, _seats in parts:  # the holds' expiry changed (a give-back's may come sooner)
                self.counts.forget(flight_id)

    async def _transfer(self, parts: list[tuple[str, list[str]]], from_holder: str, to: str, booking_id: str,
                        until_ms: int) -> SeatUnavailable | None:
        done: list[tuple[str, list[str]]] = []
        for flight_id, seats in parts:
            if await self.repo.transfer_holds(flight_id, seats, from_holder, to, booking_id, until_ms,
                                              self.clock.now_ms()):
                done.append((flight_id, seats))
                continue
            for moved_flight, moved in done:
                await self.repo.give_back(moved_flight, moved, to, from_holder, self.clock.now_ms() + self.hold_ms)
            state = await self.taken(flight_id, from_holder)
            lost = next((s for s in seats if state.get(s) != "mine"), seats[0])
            return SeatUnavailable(lost, flight_id)
        return None

    async def rehold_for_booking(self, flight_id: str, seats: list[str], booking_id: str, until_ms: int,
                                 cabin: str) -> bool:
        """Extend (or re-take, if they were lost and are still free) a booking's seats until `until_ms`.

        One write per seat that is still the booking's (its id and the new expiry written by the refresh itself;
        nothing re-read); a lost seat costs a claim too. The cabin is kept on every hold: "N left" counts seats
        per cabin.
        """
        holder = booking_holder(booking_id)
        taken: list[str] = []
        for seat in seats:
            try:
                await self.hold(flight_id, seat, holder, cabin, mine=True, booking_id=booking_id, until_ms=until_ms)
            except SeatUnavailable:
                for done in taken:
                    await self.release(flight_id, done, holder)
                return False
            taken.append(seat)
        return True

    async def book(self, booking_id: str, paid_for: Iterable[str] = ()) -> set[str]:
        """Held → booked for a paid booking (idempotent); returns every seat this booking now has booked, as
        `seat_key`s ("<flight id>:<seat>", models.seat) since an itinerary has several flights.

        The caller compares that with the seats the traveller paid for (`paid_for`, seat keys: one round trip
        when all are still the booking's): a hold can have been lost.
        """
        return await self.repo.book(booking_holder(booking_id), booking_id, paid_for)

    async def release_booking(self, booking_id: str) -> int:
        with self._writing():
            return await self.repo.release_all(booking_holder(booking_id))

    async def release_on_flight(self, booking_id: str, flight_id: str) -> int:
        """A booking moved off a flight: its seats there are free again."""
        with self._writing(flight_id):
            return await self.repo.release_on_flight(booking_holder(booking_id), flight_id)

    async def release_unbooked_on_flight(self, booking_id: str, flight_id: str) -> int:
        """A move given up: the seats it held (not booked) on the new flight are free again."""
        with self._writing(flight_id):
            return await self.repo.release_held_on_flight(booking_holder(booking_id), flight_id)

    async def release_expired(self) -> int:
        """Housekeeping: delete lapsed chat holds (already free for the hold query). A booking's holds go only
        with its booking (services.sweeps), however late."""
        return await self.repo.delete_lapsed_chat_holds(self.clock.now_ms())

    async def held_by(self, holder: str, flight_id: str) -> int:
        """Live seats `holder` holds on a flight (for the per-user limit)."""
        return await self.repo.count_held(holder, flight_id, self.clock.now_ms())

    async def active_holds(self) -> int:
        return await self.repo.count_active(self.clock.now_ms())
