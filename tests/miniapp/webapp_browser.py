"""Opening FlyO's Mini Apps in the real Chromium (tests.browser) the way Telegram would, with no internet.

Telegram's `telegram-web-app.js` is never fetched: every host but loopback resolves to nothing (the browser
cannot reach the internet), and where a test wants "inside Telegram" a stub `window.Telegram.WebApp` is installed
before any page script runs, with the init data, the theme and a visible stand-in for Telegram's native main
button (`#tg-main-button`) so Selenium can press it. Without the stub the page must work from the URL fragment
alone — what it does when Telegram's script cannot load.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from services.webapp_auth import sign_init_data
from tests.browser import chromium, viewport

LIGHT = {"bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#707579", "link_color": "#3390ec",
         "button_color": "#3390ec", "button_text_color": "#ffffff", "secondary_bg_color": "#f4f4f5"}
DARK = {"bg_color": "#212121", "text_color": "#ffffff", "hint_color": "#aaaaaa", "link_color": "#8774e1",
        "button_color": "#8774e1", "button_text_color": "#ffffff", "secondary_bg_color": "#181818"}

# What the page sees as window.Telegram.WebApp (the parts FlyO uses), installed before the page's scripts.
STUB = Path(__file__).with_name("telegram_stub.js")


def init_data(token: str, user_id: int, *, signed_at: float | None = None, first_name: str = "Ada",
              language_code: str = "en") -> str:
    """Init data as Telegram signs it for `user_id` (signed now unless `signed_at`, epoch seconds)."""
    user = json.dumps({"id": user_id, "first_name": first_name, "language_code": language_code},
                      separators=(",", ":"))
    return sign_init_data({"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": user,
                           "auth_date": str(int(signed_at if signed_at is not None else time.time()))}, token)


def fragment(data: str, theme: dict[str, str] | None = None) -> str:
    """The URL fragment Telegram appends to a Mini App's URL."""
    values = {"tgWebAppData": data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "ios"}
    if theme is not None:
        values["tgWebAppThemeParams"] = json.dumps(theme)
    return "#" + urlencode(values)


@contextlib.contextmanager
def mini_app_browser(profile: Path) -> Iterator[Any]:
    """A phone-sized Chromium (a 390×844 CSS-pixel viewport, touch, as a mobile web view) that reaches loopback
    only (Telegram's script and anything else fail fast). Headless Chromium keeps windows at least 500 px wide,
    so the viewport is set through the DevTools protocol, as its device emulation does."""
    with chromium(profile, 500, 900, extra=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]) as driver:
        viewport(driver, 390, 844, scale=2)
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        yield driver


def as_telegram(driver: Any, data: str, *, theme: dict[str, str] = LIGHT, scheme: str = "light") -> None:
    """From now on every page load finds the stub Telegram.WebApp with this init data and theme."""
    config = json.dumps({"initData": data, "theme": theme, "scheme": scheme})
    source = f"window.__telegramConfig = {config};\n" + STUB.read_text()
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})


def wait_until(driver: Any, condition: Callable[[Any], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll `condition(driver)` until truthy (Selenium's wait, with the failure saying what was awaited)."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition, message=what)


def shoot(driver: Any, directory: Path, name: str) -> Path:
    """A screenshot under the test's tmp dir (and FLYO_SCREENSHOTS if set, to look at or copy into docs/)."""
    target = Path(os.environ.get("FLYO_SCREENSHOTS") or directory) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(target))
    return target


AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def axe_violations(driver: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA scan of the page as it is now: the violations of these impacts (id, help, where).
    The stub's stand-in for Telegram's native main button is Telegram's, not the page's: left out."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run({exclude: [['#tg-main-button']]}, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
        ".then(function (r) { done(r.violations.map(function (v) { return {id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); })}; })); },"
        " function (e) { done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]); });")
    return [v for v in result if v.get("impact") in impacts]
