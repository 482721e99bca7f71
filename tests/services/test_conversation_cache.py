"""The conversation cache (services.conversations): an update's read is spared, never its revision check — a copy
that another writer moved past makes the save fail, is dropped, and the turn runs again on a fresh read."""

from __future__ import annotations

import pytest

from core.clock import Clock
from core.database import Database, counting_round_trips
from models.conversation import Conversation, Step
from services.conversations import ConversationStore, StaleConversation


async def test_a_saved_conversation_is_loaded_again_without_a_read(db: Database) -> None:
    store = ConversationStore(Clock(), cache_size=8)
    conv = await store.load(501, 501)
    conv.step = Step.ASK_ORIGIN
    await store.save(conv)
    with counting_round_trips() as commands:
        again = await store.load(501, 501)
    assert commands == [] and again.step == Step.ASK_ORIGIN and again.rev == 1
    off = ConversationStore(Clock(), cache_size=0)
    with counting_round_trips() as commands:
        await off.load(501, 501)
    assert commands == ["find conversations"]


async def test_a_copy_moved_past_by_another_writer_fails_its_save_and_is_dropped(db: Database) -> None:
    here, there = ConversationStore(Clock(), cache_size=8), ConversationStore(Clock(), cache_size=8)
    conv = await here.load(502, 502)
    await here.save(conv)  # cached here at rev 1
    other = await there.load(502, 502)
    other.step = Step.ASK_DATE
    await there.save(other)  # another replica: rev 2
    stale = await here.load(502, 502)  # the guess: rev 1
    assert stale.rev == 1
    stale.step = Step.REVIEW
    with pytest.raises(StaleConversation):
        await here.save(stale)
    fresh = await here.load(502, 502)  # read again from the database
    assert (fresh.rev, fresh.step) == (2, Step.ASK_DATE)
    stored = await Conversation.find_one(Conversation.chat_id == 502)
    assert stored is not None and stored.step == Step.ASK_DATE  # the stale guess never reached the database


async def test_changing_a_loaded_copy_does_not_change_the_cache_until_saved(db: Database) -> None:
    store = ConversationStore(Clock(), cache_size=8)
    conv = await store.load(503, 503)
    conv.draft = {"pax": 1}
    await store.save(conv)
    loaded = await store.load(503, 503)
    loaded.draft["pax"] = 9  # a turn that fails before saving
    loaded.step = Step.SEATS
    again = await store.load(503, 503)
    assert again.draft == {"pax": 1} and again.step == Step.IDLE


async def test_the_cache_is_bounded_least_recently_used_first(db: Database) -> None:
    store = ConversationStore(Clock(), cache_size=2)
    for chat in (511, 512, 513):
        await store.save(await store.load(chat, chat))
    with counting_round_trips() as commands:
        for chat in (512, 513, 511):
            await store.load(chat, chat)
    assert commands == ["find conversations"]  # 511 went first
