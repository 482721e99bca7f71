"""A traveller who blocks the bot is remembered (so nothing keeps retrying) until they write again."""

from __future__ import annotations

from core.database import Database
from models.chat_status import ChatStatus
from services import chat_status
from tests.harness import RunningBot
from tests.ops.helpers import eventually, sample


async def test_mark_blocked_then_active_changes_the_stored_flag(db: Database) -> None:
    assert not await chat_status.is_blocked(5001)
    assert await chat_status.mark_blocked(5001, now_ms=1_000) is True
    assert await chat_status.mark_blocked(5001, now_ms=2_000) is False  # already blocked: not "new"
    stored = await ChatStatus.find_one(ChatStatus.chat_id == 5001)
    assert stored is not None and stored.blocked and stored.blocked_ms == 2_000
    assert await chat_status.is_blocked(5001)
    assert not await chat_status.is_blocked(5002)  # other chats untouched

    assert await chat_status.mark_active(5001) is True
    assert await chat_status.mark_active(5001) is False
    stored = await ChatStatus.find_one(ChatStatus.chat_id == 5001)
    assert stored is not None and not stored.blocked
    assert not await chat_status.is_blocked(5001)

    assert await chat_status.mark_blocked(5001, now_ms=3_000) is True  # blocked again: new again
    assert await ChatStatus.find(ChatStatus.chat_id == 5001).count() == 1


async def test_mark_active_for_a_never_blocked_chat_writes_nothing(db: Database) -> None:
    assert await chat_status.mark_active(5003) is False
    assert await ChatStatus.find_all().count() == 0


async def test_forbidden_reply_marks_the_chat_blocked_and_a_new_message_clears_it(bot: RunningBot) -> None:
    fake = bot.telegram
    ada = fake.traveller(5101)
    newly_before = sample("flyo_chats_blocked_total")
    fake.blocked_chats.add(ada.chat_id)
    await ada.send("/help")
    refused = await fake.wait_for_call("sendMessage", lambda c: c.error_code == 403
                                       and c.params.get("chat_id") == ada.chat_id)
    assert "blocked by the user" in str(refused.description)
    await eventually(lambda: chat_status.is_blocked(ada.chat_id), "chat marked blocked")
    assert sample("flyo_chats_blocked_total") == newly_before + 1
    assert not [c for c in fake.calls_of("sendMessage")
                if c.params.get("chat_id") == ada.chat_id and "went wrong" in str(c.params.get("text"))]

    fake.blocked_chats.discard(ada.chat_id)  # the traveller unblocks the bot and writes again
    await ada.send("/help")
    await ada.wait_for("books flights right here")

    async def cleared() -> bool:
        return not await chat_status.is_blocked(ada.chat_id)
    await eventually(cleared, "blocked flag cleared by the new message")


async def test_other_travellers_are_not_affected_by_a_block(bot: RunningBot) -> None:
    fake = bot.telegram
    ada, grace = fake.traveller(5201), fake.traveller(5202, first_name="Grace")
    fake.blocked_chats.add(ada.chat_id)
    await ada.send("/start")
    await grace.send("/start")
    await grace.wait_for("Hi Grace")
    await eventually(lambda: chat_status.is_blocked(ada.chat_id), "chat marked blocked")
    assert not await chat_status.is_blocked(grace.chat_id)


async def test_activity_checks_the_database_once_per_chat_then_trusts_telegrams_unblock_update(
        db: Database) -> None:
    await chat_status.mark_blocked(5301)
    assert await chat_status.note_activity(5301) is True  # a message from a blocked chat clears it
    # Another replica records a block; within RECHECK_SECONDS this process doesn't look again...
    await ChatStatus.get_pymongo_collection().update_one({"chat_id": 5301}, {"$set": {"blocked": True}})
    assert await chat_status.note_activity(5301) is False
    assert await chat_status.is_blocked(5301)
    # ...because unblocking makes Telegram send my_chat_member, which always clears it.
    assert await chat_status.mark_active(5301) is True
    # A block recorded by this process is never hidden by the shortcut.
    await chat_status.mark_blocked(5301)
    assert await chat_status.note_activity(5301) is True
    assert not await chat_status.is_blocked(5301)
