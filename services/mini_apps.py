"""Where a Mini App page is opened from the chat (issue #19): a `web_app` button on Telegram, a plain link in the
terminal chat.

Telegram opens Mini Apps only over HTTPS, so a FlyO whose PUBLIC_URL is not https offers no button at all (the
inline seat grid and /stats still work). The terminal chat has no Telegram to sign the page's init data, so its
link carries init data signed here with the console's own token, in the URL fragment where Telegram puts it
(`#tgWebAppData=…`): the page and its API work unchanged in a desktop browser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from core.clock import Clock
from core.config import Settings
from services.webapp_auth import sign_init_data


@dataclass(frozen=True)
class MiniAppLink:
    url: str
    in_telegram: bool  # True: a web_app button (Telegram signs the init data); False: a link with it signed here


def mini_app_link(settings: Settings, clock: Clock, path: str, query: dict[str, str], *, user_id: int,
                  first_name: str = "") -> MiniAppLink | None:
    """The page at `path` (e.g. "/app/seats/") for this user, or None where no Mini App can be offered."""
    suffix = path + ("?" + urlencode(query) if query else "")
    if settings.console_chat:
        user = json.dumps({"id": user_id, "first_name": first_name}, ensure_ascii=False, separators=(",", ":"))
        init_data = sign_init_data({"user": user, "auth_date": str(int(clock.now().timestamp()))},
                                   settings.bot_token)
        fragment = urlencode({"tgWebAppData": init_data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "web"})
        return MiniAppLink(f"{settings.public_url}{suffix}#{fragment}", in_telegram=False)
    if not settings.PUBLIC_URL.startswith("https://"):
        return None
    return MiniAppLink(settings.public_url + suffix, in_telegram=True)
