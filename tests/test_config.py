"""Settings: the documented variables, their defaults, and one clear line for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import ConfigError, Settings, load_settings
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
    ("LOG_FORMAT", "xml", "LOG_FORMAT"),
    ("STRIPE_SECRET_KEY", "sk_live_123", "STRIPE_ALLOW_LIVE"),
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
