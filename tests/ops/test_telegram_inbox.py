"""No lost taps in webhook mode (issue #21): every posted update is stored before the 200, handled once, marked
done; a redelivery is dropped; an update whose process died before handling it is taken over by the next sweep of
any replica after its lease (two sweeps at once: one takes it); one that crashed its process three times is given
up; the database down at receipt → 503, so Telegram delivers again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from bot.db import free_port
from core.database import Database
from models.telegram_update import TelegramUpdateRow
from tests.harness import RunningBot, running_bot
from tests.ops.helpers import eventually, http
from tests.ops.test_telegram_webhook import SECRET, _update

pytestmark = pytest.mark.slow  # FlyO in webhook mode


@pytest.fixture
async def webhook_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    port = free_port()
    async with running_bot(inventory_db, telegram, tmp_path, HTTP_PORT=port,
                           TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhooks/telegram",
                           TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_UPDATE_LEASE_SECONDS=30) as running:
        yield running


async def post(bot: RunningBot, body: dict[str, Any]) -> int:
    status, _, _ = await http("POST", f"{bot.url}/webhooks/telegram", data=json.dumps(body),
                              headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    return status


def helps(traveller: Any) -> int:
    return sum("books flights right here" in m.plain_text() for m in traveller.messages())


async def row(update_id: int) -> TelegramUpdateRow:
    found = await TelegramUpdateRow.find_one(TelegramUpdateRow.update_id == update_id)
    assert found is not None
    return found


async def test_stored_handled_and_done_and_a_redelivery_is_dropped(webhook_bot: RunningBot) -> None:
    ada = webhook_bot.telegram.traveller(3201)
    update = _update(910_001, 3201, "/help")
    assert await post(webhook_bot, update) == 200
    await ada.wait_for("books flights right here")

    async def done() -> bool:
        return (await row(910_001)).done
    await eventually(done, "the update marked done")
    for _ in range(3):  # Telegram again (our 200 lost on the way), twice at once
        assert await post(webhook_bot, update) == 200
    await asyncio.gather(post(webhook_bot, update), post(webhook_bot, update))
    await ada.assert_no_message(0.5)
    assert helps(ada) == 1 and (await row(910_001)).attempts == 1
    assert (await row(910_001)).body == {}  # handled: what was typed is not kept, only the id


async def test_an_update_whose_process_died_is_handled_by_the_next_sweep(webhook_bot: RunningBot) -> None:
    ada = webhook_bot.telegram.traveller(3202)
    now = webhook_bot.clock.now_ms()
    # Stored and answered 200 by a replica that died before handling it.
    await TelegramUpdateRow(update_id=910_002, body=_update(910_002, 3202, "/help"), received_ms=now,
                            claimed_ms=now).insert()
    sweeper = webhook_bot.services.sweeper
    assert sweeper is not None
    await asyncio.gather(sweeper.run(), sweeper.run())  # within its lease: it may still be in hand elsewhere
    await ada.assert_no_message(0.3)
    webhook_bot.clock.advance(timedelta(seconds=31))
    reports = await asyncio.gather(sweeper.run(), sweeper.run())  # two replicas' sweeps at once
    assert sorted(r.updates_recovered for r in reports) == [0, 1]
    await ada.wait_for("books flights right here")

    async def done() -> bool:
        return (await row(910_002)).done
    await eventually(done, "the recovered update marked done")
    webhook_bot.clock.advance(timedelta(seconds=31))
    await sweeper.run()
    await ada.assert_no_message(0.3)
    assert helps(ada) == 1 and (await row(910_002)).attempts == 2


async def test_an_update_that_keeps_crashing_its_process_is_given_up(webhook_bot: RunningBot) -> None:
    ada = webhook_bot.telegram.traveller(3203)
    then = webhook_bot.clock.now_ms() - 3600_000
    await TelegramUpdateRow(update_id=910_003, body=_update(910_003, 3203, "/help"), received_ms=then,
                            claimed_ms=then, attempts=3).insert()
    sweeper = webhook_bot.services.sweeper
    assert sweeper is not None
    assert (await sweeper.run()).updates_recovered == 0
    stored = await row(910_003)
    assert stored.done and stored.failed
    await ada.assert_no_message(0.3)


async def test_database_down_at_receipt_is_a_503_and_nothing_is_handled(webhook_bot: RunningBot,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ada = webhook_bot.telegram.traveller(3204)
    inbox = webhook_bot.services.telegram_inbox
    assert inbox is not None

    async def down(body: dict[str, Any]) -> bool:
        raise ServerSelectionTimeoutError("no primary")
    monkeypatch.setattr(inbox, "receive", down)
    assert await post(webhook_bot, _update(910_004, 3204, "/help")) == 503
    await ada.assert_no_message(0.3)
    monkeypatch.undo()
    assert await post(webhook_bot, _update(910_004, 3204, "/help")) == 200  # Telegram's next delivery
    await ada.wait_for("books flights right here")


async def test_done_rows_are_forgotten_after_a_day(webhook_bot: RunningBot) -> None:
    old = webhook_bot.clock.now_ms() - 25 * 3600_000
    await TelegramUpdateRow(update_id=910_005, body={"update_id": 910_005}, received_ms=old, claimed_ms=old,
                            done=True).insert()
    sweeper = webhook_bot.services.sweeper
    assert sweeper is not None
    await sweeper.run()
    assert await TelegramUpdateRow.find_one(TelegramUpdateRow.update_id == 910_005) is None


async def test_a_live_process_keeps_its_queued_updates(webhook_bot: RunningBot) -> None:
    """Found by the replicas test: an update waiting in a busy replica's queue (behind Telegram's send limit) for
    longer than a lease was taken over by another replica's sweep while the first still held it — handled by two at
    once, then given up as "crashed" three times. The holder renews its leases; only a dead process's lapse."""
    from services.telegram_inbox import TelegramInbox

    mine = webhook_bot.services.telegram_inbox
    assert mine is not None
    body = _update(910_050, 3250, "/help")
    assert await mine.receive(body)  # stored and held here, still waiting its turn in this process's queue
    other_replica = TelegramInbox(webhook_bot.clock, lease_seconds=30)
    taken: list[dict[str, Any]] = []

    async def handle(update: dict[str, Any]) -> None:
        taken.append(update)

    for _ in range(4):  # two minutes in all, the holder renewing every ten seconds as keep_leases does
        webhook_bot.clock.advance(timedelta(seconds=10))
        assert await mine.renew_leases() == 1
        webhook_bot.clock.advance(timedelta(seconds=20))
        assert await other_replica.recover(handle) == 0
    assert taken == [] and (await row(910_050)).attempts == 1
    mine.held.clear()  # the holder dies: nobody renews
    webhook_bot.clock.advance(timedelta(seconds=31))
    assert await other_replica.recover(handle) == 1 and taken == [body]
    assert other_replica.held == {910_050}  # the new holder renews it from now on


async def test_an_update_whose_done_mark_failed_is_not_held_for_ever(webhook_bot: RunningBot) -> None:
    """Its lease must lapse, so another process takes it over (and answers it from the saved replies)."""
    from pymongo.errors import AutoReconnect

    from repos.telegram_updates import TelegramUpdateRepo
    from services.telegram_inbox import TelegramInbox

    class Failing(TelegramUpdateRepo):
        async def finish(self, update_id: int) -> None:
            raise AutoReconnect("connection reset")

    inbox = TelegramInbox(webhook_bot.clock, lease_seconds=30, repo=Failing())
    assert await inbox.receive(_update(910_060, 3260, "/help"))
    with pytest.raises(AutoReconnect):
        await inbox.finished(910_060)
    assert inbox.held == set() and await inbox.renew_leases() == 0
