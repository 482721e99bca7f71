"""Seat counts ("N left") in memory (services.seat_counts): right after every write of this process, right
when a hold lapses on its own, and never kept from a read that raced a write."""

from __future__ import annotations

from datetime import timedelta

from core.clock import Clock
from core.database import Database, counting_round_trips
from services.seat_counts import Counted, SeatCountCache, counted
from services.seats import SeatService, chat_holder

FLIGHT = "count-test-flight"


def test_counts_are_valid_until_the_first_counted_hold_lapses() -> None:
    entry = counted([("economy", 1_000), ("economy", 5_000), ("business", 900), ("economy", 10)], now_ms=500)
    assert entry == Counted({"economy": 2, "business": 1}, valid_until_ms=901)  # the lapsed one is not counted
    cache = SeatCountCache(enabled=True)
    cache.put(FLIGHT, entry, cache.version(FLIGHT))
    assert cache.get(FLIGHT, 900) == {"economy": 2, "business": 1}
    assert cache.get(FLIGHT, 901) is None  # the business hold lapsed: read again


def test_a_count_read_that_raced_a_write_is_not_kept() -> None:
    cache = SeatCountCache(enabled=True)
    before = cache.version(FLIGHT)
    cache.forget(FLIGHT)  # a seat of the flight was written while the count was being read
    cache.put(FLIGHT, Counted({"economy": 1}, 10_000), before)
    assert cache.get(FLIGHT, 0) is None
    other = cache.version("another-flight")
    cache.forget("yet-another-flight")  # a write on another flight does not spoil this read
    cache.put("another-flight", Counted({}, 10_000), other)
    assert cache.get("another-flight", 0) == {}
    everything = cache.version("another-flight")
    cache.forget()  # a write whose flights are unknown (a holder's seats freed): nothing read before is kept
    assert cache.get("another-flight", 0) is None
    cache.put("another-flight", Counted({}, 10_000), everything)
    assert cache.get("another-flight", 0) is None


def test_the_cache_is_bounded_and_off_keeps_nothing() -> None:
    cache = SeatCountCache(enabled=True, size=3)
    for n in range(10):
        cache.put(f"f{n}", Counted({}, 10_000), cache.version(f"f{n}"))
    assert [f for f in (f"f{n}" for n in range(10)) if cache.get(f, 0) is not None] == ["f7", "f8", "f9"]
    off = SeatCountCache(enabled=False)
    off.put(FLIGHT, Counted({}, 10_000), off.version(FLIGHT))
    assert off.get(FLIGHT, 0) is None
    for n in range(100):  # many flights written: the per-flight versions stay bounded
        cache.forget(f"w{n}")
    assert len(cache._per_flight) <= 4 * cache.size


async def test_a_second_look_reads_nothing_and_every_change_shows_at_once(db: Database) -> None:
    clock = Clock()
    seats = SeatService(clock, hold_minutes=15, cache_counts=True)
    await seats.hold(FLIGHT, "1A", chat_holder(1), "economy")
    assert await seats.taken_counts([FLIGHT]) == {FLIGHT: {"economy": 1}}
    with counting_round_trips() as commands:
        assert await seats.taken_counts([FLIGHT]) == {FLIGHT: {"economy": 1}}
    assert commands == []  # from memory
    await seats.hold(FLIGHT, "1B", chat_holder(2), "economy")
    assert await seats.taken_counts([FLIGHT]) == {FLIGHT: {"economy": 2}}  # "N left" went down at once
    await seats.release(FLIGHT, "1A", chat_holder(1))
    assert await seats.taken_counts([FLIGHT]) == {FLIGHT: {"economy": 1}}
    clock.advance(timedelta(minutes=16))  # 1B's hold lapsed; nobody wrote anything
    assert await seats.taken_counts([FLIGHT]) == {FLIGHT: {}}
