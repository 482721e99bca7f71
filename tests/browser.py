"""A real browser for the page and e-mail tests: Debian's Chromium driven by Selenium, headless."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
# For a module's `pytestmark`: slow, and skipped where the browser isn't installed (CI).
BROWSER_TESTS = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                       reason="no Chromium/chromedriver here (Debian: apt install chromium chromium-driver)"),
]


@contextlib.contextmanager
def chromium(profile: Path, width: int, height: int, *, extra: list[str] | None = None) -> Iterator[Any]:
    """A headless Chromium window of `width` × `height` CSS pixels, quit afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", f"--window-size={width},{height}", *(extra or [])):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(60)
    viewport(driver, width, height)
    try:
        yield driver
    finally:
        driver.quit()


def viewport(driver: Any, width: int, height: int, *, scale: int = 1) -> None:
    """The page's viewport in CSS pixels. Headless Chromium keeps a window at least 500 px wide whatever
    --window-size says, so the size is set through the DevTools protocol (device emulation): a 360 or 390 px
    phone really is that wide."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": width < 500})
