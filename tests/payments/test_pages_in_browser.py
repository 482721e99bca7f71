"""The pages a traveller opens from Stripe (/paid, /unpaid) in a real browser: Debian's Chromium driven by
Selenium, phone-sized, with screenshots (kept under the test's tmp dir, and in FLYO_SCREENSHOTS if set)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import BROWSER_TESTS, chromium

pytestmark = BROWSER_TESTS


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile", 390, 844) as driver:
        yield driver


def _shoot(driver: Any, tmp_path: Path, name: str) -> Path:
    target = Path(os.environ.get("FLYO_SCREENSHOTS") or tmp_path) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(target))
    return target


@pytest.mark.parametrize(("path", "title", "says"), [
    ("/paid?ref=K7Q2MX", "Payment received", "FlyO confirms your booking in the chat"),
    ("/unpaid?ref=K7Q2MX", "Payment not completed", "Nothing was charged"),
    ("/paid?ref=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "Payment received", "FlyO confirms"),
])
async def test_stripe_return_pages_in_chromium(bot: Any, browser: Any, tmp_path: Path, path: str, title: str,
                                               says: str) -> None:
    from selenium.webdriver.common.by import By

    def look() -> tuple[str, str, str, bool, Path]:  # Selenium blocks: run it off the loop that serves the page
        browser.get(f"{bot.url}{path}")
        fits = browser.execute_script(  # no sideways scrolling, and text not glued to the screen's edge
            "return document.documentElement.scrollWidth <= window.innerWidth"
            " && document.querySelector('h1').getBoundingClientRect().left >= 12")
        name = path.strip("/").split("?")[0] + ("-bad-ref" if "script" in path else "")
        return (browser.title, browser.find_element(By.TAG_NAME, "body").text, browser.page_source, bool(fits),
                _shoot(browser, tmp_path, name))

    shown_title, body, source, fits, shot = await asyncio.to_thread(look)
    assert title in shown_title
    assert says in body
    if "script" in path:  # a reference that is not one: neither run nor echoed as markup
        assert "<script>" not in source and "alert(1)" not in body
    else:
        assert "K7Q2MX" in body
    assert fits, "on a phone the page scrolls sideways or its text touches the edge"
    assert shot.stat().st_size > 1000
