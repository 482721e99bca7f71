"""Where a Mini App is offered from (services.mini_apps): a web_app button only with an https PUBLIC_URL; in the
terminal chat a plain link whose fragment carries init data signed with the console's token, which the page's
API accepts; nothing otherwise."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from core.clock import Clock
from core.config import Settings
from services.mini_apps import mini_app_link
from services.webapp_auth import validate_init_data


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(TELEGRAM_BOT_TOKEN="123:abc", DATA_DIR=tmp_path, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("public", "offered"), [
    ("https://flyo.example.com", "https://flyo.example.com/app/seats/?f=ab12"),
    ("https://flyo.example.com/bot/", "https://flyo.example.com/bot/app/seats/?f=ab12"),
    ("http://flyo.example.com", None),
    ("", None),
])
def test_a_web_app_button_only_over_https(tmp_path: Path, public: str, offered: str | None) -> None:
    link = mini_app_link(_settings(tmp_path, PUBLIC_URL=public), Clock(), "/app/seats/", {"f": "ab12"},
                         user_id=42)
    assert (link.url if link else None) == offered
    assert link is None or link.in_telegram


def test_the_terminal_chat_gets_a_local_link_with_init_data_it_accepts(tmp_path: Path) -> None:
    clock = Clock()
    console = _settings(tmp_path).for_console("http://127.0.0.1:9999", "777:console-token")
    link = mini_app_link(console, clock, "/app/seats/", {"f": "ab12"}, user_id=4242, first_name="Zoë")
    assert link is not None and not link.in_telegram
    parts = urlsplit(link.url)
    assert f"{parts.scheme}://{parts.netloc}" == console.public_url and parts.path == "/app/seats/"
    assert parse_qs(parts.query) == {"f": ["ab12"]}
    data = parse_qs(parts.fragment)["tgWebAppData"][0]
    user = validate_init_data(data, console.bot_token, now=clock.now(), max_age=timedelta(hours=1))
    assert (user.user_id, user.first_name) == (4242, "Zoë")
