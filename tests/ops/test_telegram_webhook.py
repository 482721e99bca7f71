"""Webhook mode: Telegram posts updates to POST /webhooks/telegram with the secret we registered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.db import free_port
from core.config import ConfigError, load_settings
from core.database import Database
from services import chat_status
from tests.harness import RunningBot, running_bot
from tests.ops.helpers import eventually, http, sample

pytestmark = pytest.mark.slow  # each test starts FlyO in webhook mode (≈ 1–3 s); `make test` runs them

SECRET = "flyo-webhook-Secret_123"


@pytest.fixture
async def webhook_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    port = free_port()
    async with running_bot(inventory_db, telegram, tmp_path, HTTP_PORT=port,
                           TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhooks/telegram",
                           TELEGRAM_WEBHOOK_SECRET=SECRET) as running:
        yield running


def _update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Ada"}
    message = {"message_id": 1, "from": user, "chat": {"id": user_id, "type": "private", "first_name": "Ada"},
               "date": 1_790_000_000, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def test_startup_registers_the_webhook_with_secret_and_update_types(webhook_bot: RunningBot) -> None:
    fake = webhook_bot.telegram
    (call,) = fake.calls_of("setWebhook")
    assert call.params["url"] == f"{webhook_bot.url}/webhooks/telegram"
    assert call.params["secret_token"] == SECRET
    assert set(call.params["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}
    assert fake.webhook_url == f"{webhook_bot.url}/webhooks/telegram"
    assert not fake.calls_of("getUpdates")  # no polling next to the webhook


async def test_traveller_is_answered_through_webhook_deliveries(webhook_bot: RunningBot) -> None:
    ada = webhook_bot.telegram.traveller(3101, first_name="Ada")
    await ada.send("/start")
    reply = await ada.wait_for("Hi Ada")
    assert "/search" in reply.plain_text()
    deliveries = webhook_bot.telegram.webhook_deliveries
    assert deliveries and all(d.status == 200 and d.error is None for d in deliveries)


async def test_shutdown_keeps_the_webhook_for_other_replicas(inventory_db: Database, telegram: Any,
                                                             tmp_path: Path) -> None:
    port = free_port()
    async with running_bot(inventory_db, telegram, tmp_path, HTTP_PORT=port,
                           TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhooks/telegram",
                           TELEGRAM_WEBHOOK_SECRET=SECRET):
        pass
    assert telegram.calls_of("setWebhook")
    assert not telegram.calls_of("deleteWebhook")
    assert telegram.webhook_url is not None


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                                     {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}])
async def test_update_without_the_right_secret_is_refused(webhook_bot: RunningBot,
                                                          headers: dict[str, str]) -> None:
    mallory = webhook_bot.telegram.traveller(3102)
    before = sample("flyo_telegram_webhook_requests_total", outcome="forbidden")
    status, _, _ = await http("POST", f"{webhook_bot.url}/webhooks/telegram",
                              json=_update(900_001, 3102, "/start"), headers=headers)
    assert status == 403
    await mallory.assert_no_message(0.3)  # nothing was handled
    assert sample("flyo_telegram_webhook_requests_total", outcome="forbidden") == before + 1


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}',
                                  "\u00ff".encode("latin-1")])
async def test_malformed_body_is_a_400(webhook_bot: RunningBot, body: bytes) -> None:
    status, _, text = await http("POST", f"{webhook_bot.url}/webhooks/telegram", data=body,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                                          "Content-Type": "application/json"})
    assert status == 400, text


async def test_a_valid_post_is_answered_200_and_handled(webhook_bot: RunningBot) -> None:
    grace = webhook_bot.telegram.traveller(3103, first_name="Grace")
    status, _, body = await http("POST", f"{webhook_bot.url}/webhooks/telegram",
                                 data=json.dumps(_update(900_002, 3103, "/help")),
                                 headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert status == 200 and body == b""
    await grace.wait_for("books flights right here")


async def test_my_chat_member_kicked_marks_the_chat_blocked(webhook_bot: RunningBot) -> None:
    ada = webhook_bot.telegram.traveller(3104)

    def until(status: str) -> dict[str, int]:
        return {"until_date": 0} if status == "kicked" else {}  # Telegram sends it for "kicked" members

    def member_update(update_id: int, old: str, new: str) -> dict[str, Any]:
        user = ada.user_dict()
        bot_user = webhook_bot.telegram.bot_user
        return {"update_id": update_id, "my_chat_member": {
            "chat": {"id": ada.chat_id, "type": "private", "first_name": "Ada"}, "from": user,
            "date": 1_790_000_000,
            "old_chat_member": {"status": old, "user": bot_user, **until(old)},
            "new_chat_member": {"status": new, "user": bot_user, **until(new)},
        }}

    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    url = f"{webhook_bot.url}/webhooks/telegram"
    status, _, _ = await http("POST", url, json=member_update(900_003, "member", "kicked"), headers=headers)
    assert status == 200
    await eventually(lambda: chat_status.is_blocked(ada.chat_id), "chat marked blocked")
    status, _, _ = await http("POST", url, json=member_update(900_004, "kicked", "member"), headers=headers)
    assert status == 200

    async def unblocked() -> bool:
        return not await chat_status.is_blocked(ada.chat_id)
    await eventually(unblocked, "chat unblocked after 'Restart bot'")


async def test_polling_mode_does_not_accept_posted_updates(bot: RunningBot) -> None:
    status, _, _ = await http("POST", f"{bot.url}/webhooks/telegram", json=_update(900_005, 3105, "/start"),
                              headers={"X-Telegram-Bot-Api-Secret-Token": "anything"})
    assert status == 404


def test_webhook_url_without_secret_is_refused_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://flyo.example.com/webhooks/telegram")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    assert "TELEGRAM_WEBHOOK_SECRET" in message and "TELEGRAM_WEBHOOK_URL" in message


def test_webhook_secret_with_characters_telegram_rejects_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://flyo.example.com/webhooks/telegram")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "has spaces!")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET may only use"):
        load_settings()
