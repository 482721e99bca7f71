"""Settings: the documented variables, their defaults, and one clear line for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.config import ConfigError, Settings, load_settings
from tests.conftest import REPO_ROOT


def _example() -> dict[str, str]:
    pairs = {}
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def test_env_example_lists_every_setting_with_a_comment() -> None:
    example = _example()
    assert set(example) == set(Settings.model_fields)
    lines = (REPO_ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert lines[index - 1].startswith("#"), f"{line} has no comment above it"


def test_env_example_values_load(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _example().items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.HTTP_PORT == 8080 and settings.MONGODB_DB == "flyo" and settings.bot_token == ""
    assert settings.public_url == "http://127.0.0.1:8080"


def test_defaults_match_the_design_table() -> None:
    s = Settings()
    assert s.TELEGRAM_API_URL == "https://api.telegram.org"
    assert (s.MONGODB_DB, str(s.DATA_DIR), s.HTTP_HOST, s.HTTP_PORT) == ("flyo", "var", "127.0.0.1", 8080)
    assert (s.HOLD_MINUTES, s.PAYMENT_WINDOW_MINUTES, s.LOG_LEVEL, s.LOG_FORMAT) == (15, 30, "INFO", "text")
    assert s.STRIPE_API_URL == "https://api.stripe.com" and s.SENDGRID_API_URL == "https://api.sendgrid.com"


@pytest.mark.parametrize(("name", "value", "needle"), [
    ("HTTP_PORT", "abc", "HTTP_PORT"),
    ("ADMIN_IDS", "x", "ADMIN_IDS"),
    ("PAYMENT_WINDOW_MINUTES", "10", "PAYMENT_WINDOW_MINUTES"),
    ("INFANT_FARE_PERCENT", "101", "INFANT_FARE_PERCENT"),  # more than the adult fare
    ("INFANT_FARE_PERCENT", "-5", "INFANT_FARE_PERCENT"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT"),
    ("STRIPE_SECRET_KEY", "sk_live_123", "STRIPE_ALLOW_LIVE"),
    # replicas (issue #21): a send rate over Telegram's per-bot limit, or none at all; a flood switch that isn't one
    ("TELEGRAM_SEND_RATE", "31", "TELEGRAM_SEND_RATE"),
    ("TELEGRAM_SEND_RATE", "0", "TELEGRAM_SEND_RATE"),
    ("FLOOD_SHARED", "maybe", "FLOOD_SHARED"),
])
def test_bad_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                                    needle: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=needle) as info:
        load_settings()
    assert "\n" not in str(info.value)
    if name == "STRIPE_SECRET_KEY":
        assert "sk_live_123" not in str(info.value)  # secrets are never echoed


def test_admin_ids_parse() -> None:
    assert frozenset({1, 22, 333}) == Settings(ADMIN_IDS="1, 22,333").ADMIN_IDS  # type: ignore[arg-type]


def test_python_m_bot_with_bad_port_exits_with_one_line_and_no_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields} | {"HTTP_PORT": "abc"}
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "HTTP_PORT" in result.stderr
    assert "Traceback" not in result.stderr


# ---- booking limits (issue #12) ----------------------------------------------------------------
def test_booking_limit_settings_have_their_defaults() -> None:
    s = Settings()
    assert (s.BOOKING_CUTOFF_MINUTES, s.HOLD_GRACE_MINUTES) == (120, 60)
    assert (s.MAX_PENDING_BOOKINGS_PER_USER, s.MAX_HELD_SEATS_PER_FLIGHT) == (2, 9)


@pytest.mark.parametrize(("name", "value"), [
    ("BOOKING_CUTOFF_MINUTES", "-1"), ("BOOKING_CUTOFF_MINUTES", str(7 * 24 * 60 + 1)),
    ("HOLD_GRACE_MINUTES", "4"), ("HOLD_GRACE_MINUTES", str(24 * 60 + 1)),
    ("MAX_PENDING_BOOKINGS_PER_USER", "0"), ("MAX_PENDING_BOOKINGS_PER_USER", "51"),
    ("MAX_HELD_SEATS_PER_FLIGHT", "0"), ("MAX_HELD_SEATS_PER_FLIGHT", "51"),
])
def test_booking_limits_out_of_range_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name) as info:
        load_settings()
    assert "\n" not in str(info.value)


# ---- settings that make no sense together --------------------------------------------------------
STRIPE_OK = {"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_WEBHOOK_SECRET": "whsec_abc"}


@pytest.mark.parametrize(("env", "needle", "hidden"), [
    # Demo payments are the terminal chat's; on a real Bot API they would hand out free flights.
    ({"TELEGRAM_BOT_TOKEN": "123456:ABC-real", "DEMO_PAYMENTS": "1"}, "DEMO_PAYMENTS", "123456:ABC-real"),
    ({"TELEGRAM_API_URL": "https://bot-api.example.com", "DEMO_PAYMENTS": "1"}, "DEMO_PAYMENTS", None),
    # A Stripe key without the webhook secret: every payment would stay unconfirmed (webhooks answered 404).
    ({"STRIPE_SECRET_KEY": "sk_test_123"}, "STRIPE_WEBHOOK_SECRET", "sk_test_123"),
    ({**STRIPE_OK, "STRIPE_WEBHOOK_SECRET": "sk_test_pasted_here"}, "STRIPE_WEBHOOK_SECRET", "sk_test_pasted_here"),
    ({**STRIPE_OK, "STRIPE_WEBHOOK_SECRET": "whsec_a,whsec_b,whsec_c"}, "STRIPE_WEBHOOK_SECRET", "whsec_a"),
    ({**STRIPE_OK, "STRIPE_SECRET_KEY": "pk_test_publishable"}, "STRIPE_SECRET_KEY", "pk_test_publishable"),
    ({"SENDGRID_API_KEY": "SG.key"}, "EMAIL_FROM", "SG.key"),
    ({"PUBLIC_URL": "flyo.example.com"}, "PUBLIC_URL", None),
    ({"PUBLIC_URL": "ftp://flyo.example.com"}, "PUBLIC_URL", None),
    ({"PUBLIC_URL": "https://flyo.example.com/?x=1"}, "PUBLIC_URL", None),
    ({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL", None),
    ({**STRIPE_OK, "STRIPE_API_URL": "localhost:12111"}, "STRIPE_API_URL", None),
])
def test_settings_that_make_no_sense_are_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                             needle: str, hidden: str | None) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=needle) as info:
        load_settings()
    assert "\n" not in str(info.value)
    if hidden is not None:
        assert hidden not in str(info.value)  # secrets are never echoed


def test_demo_payments_alone_is_the_terminal_chat_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PAYMENTS", "1")  # no token: `python -m bot` starts the console anyway
    settings = load_settings()
    assert settings.DEMO_PAYMENTS and not settings.demo_payments  # on only once the console marks its Bot API


def test_webhook_secret_may_hold_two_secrets_while_rotating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_123")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", " whsec_old , whsec_new ")
    assert load_settings().stripe_webhook_secrets == ("whsec_old", "whsec_new")


def test_good_urls_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://flyo.example.com/bot/")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081")
    settings = load_settings()
    assert settings.public_url == "https://flyo.example.com/bot"


def test_replicas_without_public_url_share_the_webhooks_origin() -> None:
    """Found by the replicas test: replicas on their own ports gave Stripe different return URLs under one
    idempotency key, and Stripe refused the second. The Telegram webhook's origin is public and the same on all."""
    webhook = "https://flyo.example.com/webhooks/telegram"
    replicas = [Settings(TELEGRAM_WEBHOOK_URL=webhook, TELEGRAM_WEBHOOK_SECRET="s3cret", HTTP_PORT=port)
                for port in (8081, 8082)]
    assert {s.public_url for s in replicas} == {"https://flyo.example.com"}
    assert Settings(TELEGRAM_WEBHOOK_URL=webhook, TELEGRAM_WEBHOOK_SECRET="s3cret",
                    PUBLIC_URL="https://pay.example.com/").public_url == "https://pay.example.com"
    assert Settings(HTTP_HOST="127.0.0.1", HTTP_PORT=8090).public_url == "http://127.0.0.1:8090"
