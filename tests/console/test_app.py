"""How the console configures the real FlyO: local Bot API, polling, demo payments, admin, HTTP port."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.console.app import CONSOLE_USER, banner, console_settings
from core.config import load_settings


def test_telegram_is_swapped_for_the_local_bot_api(tmp_path: Path) -> None:
    user = load_settings(DATA_DIR=tmp_path, TELEGRAM_WEBHOOK_URL="https://flyo.example/webhooks/telegram",
                         TELEGRAM_WEBHOOK_SECRET="s3cret", ADMIN_IDS="42")
    flyo = console_settings(user, "http://127.0.0.1:5555", "7000000:abc", admin=False)
    assert flyo.bot_token == "7000000:abc" and flyo.TELEGRAM_API_URL == "http://127.0.0.1:5555"
    assert not flyo.webhook_mode  # the console always polls its local Bot API
    assert flyo.DEMO_PAYMENTS and flyo.console_chat and flyo.demo_payments
    assert sorted(flyo.ADMIN_IDS) == [42]  # the console user is not an admin without --admin
    assert flyo.HTTP_PORT != 8080  # a free port, so a second FlyO or anything on 8080 is no obstacle


def test_admin_and_an_explicit_port_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PORT", "8099")  # chosen for `stripe listen --forward-to`: must stay
    flyo = console_settings(load_settings(DATA_DIR=tmp_path), "http://127.0.0.1:1", "1:x", admin=True)
    assert flyo.HTTP_PORT == 8099
    assert CONSOLE_USER.id in flyo.ADMIN_IDS


def test_banner_says_which_payments_are_in_use(tmp_path: Path) -> None:
    demo = banner(load_settings(DATA_DIR=tmp_path), admin=False, style_bold="FlyO")
    assert "DEMO mode" in demo and "pay" in demo and "admin" not in demo
    keyed = load_settings(DATA_DIR=tmp_path, STRIPE_SECRET_KEY="sk_test_123", STRIPE_WEBHOOK_SECRET="whsec_1",
                          HTTP_PORT=8099)
    stripe = banner(keyed, admin=True, style_bold="FlyO")
    assert "Stripe TEST mode" in stripe
    assert "stripe listen --forward-to http://127.0.0.1:8099/webhooks/stripe" in stripe
    assert "DEMO" not in stripe and "admin" in stripe


def test_only_the_console_may_turn_demo_payments_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The marker is not a setting: no environment variable can make a FlyO on a real Bot API the console."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:AAH-user-token")  # the user's real bot, kept in the env
    user = load_settings(DATA_DIR=tmp_path)
    assert not user.console_chat and not user.demo_payments
    flyo = console_settings(user, "http://127.0.0.1:5555", "7000000:abc", admin=False)
    assert flyo.demo_payments and flyo.bot_token == "7000000:abc"
    assert not flyo.model_copy(update={"TELEGRAM_API_URL": "https://api.telegram.org"}).demo_payments
    keyed = flyo.model_copy(update={"STRIPE_SECRET_KEY": SecretStr("sk_test_1")})
    assert keyed.console_chat and not keyed.demo_payments  # a real Stripe key always wins
    with pytest.raises(ValueError, match="loopback"):
        console_settings(user, "https://api.telegram.org", "7000000:abc", admin=False)
