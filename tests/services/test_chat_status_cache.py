"""services/chat_status.py's recently-active cache: a TTL cache on an injected clock, bounded in size."""

from __future__ import annotations

from datetime import timedelta

from core.clock import Clock
from services.chat_status import _RecentlyActive


def recent(clock: Clock, max_chats: int = 50_000) -> _RecentlyActive:
    return _RecentlyActive(lambda: clock.now_ms() / 1000, max_chats)


def test_a_chat_stays_fresh_within_the_recheck_window_only() -> None:
    clock = Clock()
    cache = recent(clock)
    assert not cache.fresh(1)
    cache.remember(1)
    clock.advance(timedelta(seconds=_RecentlyActive.RECHECK_SECONDS - 1))
    assert cache.fresh(1)
    clock.advance(timedelta(seconds=2))
    assert not cache.fresh(1)


def test_forget_makes_the_next_update_check_again() -> None:
    cache = recent(Clock())
    cache.remember(7)
    cache.forget(7)
    cache.forget(8)  # unknown: no error
    assert not cache.fresh(7)


def test_a_flood_of_new_chats_stays_within_max_chats() -> None:
    clock = Clock()
    cache = recent(clock, max_chats=100)
    for chat in range(10_000):
        cache.remember(chat)
    assert len(cache) == 100
    assert cache.fresh(9_999) and not cache.fresh(0)  # the least recently seen made room
