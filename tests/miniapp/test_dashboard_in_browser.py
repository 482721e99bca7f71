"""The admins' dashboard in a real browser (Debian's Chromium through Selenium, 390×844, no internet), opened as
Telegram opens it after two bookings were paid through the real flow: the charts and numbers drawn, nothing
sideways-scrolling, the CSV export downloaded with the init data, light and dark themes, an axe-core scan; a
traveller who opens it sees the refusal and no number. Screenshots go to the test's tmp dir (and FLYO_SCREENSHOTS)."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser import BROWSER_TESTS
from tests.miniapp.webapp_browser import (
    DARK,
    LIGHT,
    as_telegram,
    axe_violations,
    fragment,
    init_data,
    shoot,
    wait_until,
)
from tests.paying import ADMIN_ID, PayingBot

pytestmark = BROWSER_TESTS


def _text(driver: Any, element_id: str) -> str:
    return str(driver.find_element("id", element_id).text)


def _drawn(driver: Any) -> bool:
    return bool(driver.execute_script(
        "return !document.getElementById('content').hidden && document.querySelectorAll('figure svg').length === 4"))


def _tiles(driver: Any) -> dict[str, str]:
    return dict(driver.execute_script(
        "var o = {}; document.querySelectorAll('#summary .tile').forEach(function (t) {"
        " o[t.querySelector('dt').textContent] = t.querySelector('dd').textContent; }); return o;"))


async def _paid_twice(paying: PayingBot) -> None:
    await paying.paid_booking(paying.telegram.traveller(6201), ["Ada Lovelace"])
    await paying.paid_booking(paying.telegram.traveller(6202), ["Bob Babbage"])


def _open(driver: Any, paying: PayingBot, user_id: int, theme: dict[str, str], scheme: str) -> None:
    data = init_data(paying.bot.settings.bot_token, user_id)
    as_telegram(driver, data, theme=theme, scheme=scheme)
    driver.get(f"{paying.bot.url}/app/dashboard/" + fragment(data, theme))


def _shoot_sections(driver: Any, directory: Path, name: str) -> list[Path]:
    """The top of the page, then each part further down (the viewport is a phone's)."""
    shots = [shoot(driver, directory, name)]
    for section in ("h-funnel", "h-load", "h-health"):
        driver.execute_script(f"document.getElementById('{section}').scrollIntoView()")
        shots.append(shoot(driver, directory, f"{name}-{section[2:]}"))
    driver.execute_script("window.scrollTo(0, 0)")
    return shots


@pytest.mark.parametrize(("theme", "scheme"), [(LIGHT, "light"), (DARK, "dark")])
async def test_an_admin_sees_the_charts_and_numbers(paying: PayingBot, browser: Any, tmp_path: Path,
                                                   theme: dict[str, str], scheme: str) -> None:
    await _paid_twice(paying)

    def look() -> tuple[dict[str, str], list[Path], list[dict[str, Any]], Any]:
        _open(browser, paying, ADMIN_ID, theme, scheme)
        wait_until(browser, _drawn, what="the four charts drawn")
        width, fits = browser.execute_script("return [window.innerWidth, "
                                             "document.documentElement.scrollWidth <= window.innerWidth]")
        assert width == 390 and fits, "the dashboard scrolls sideways on a phone"
        names = browser.execute_script(
            "return Array.from(document.querySelectorAll('figure svg')).map(function (s) {"
            " return [s.getAttribute('role'), s.getAttribute('aria-label'), s.getBoundingClientRect().width]; })")
        assert all(role == "img" and label and 300 < w <= 390 for role, label, w in names), names
        tables = browser.execute_script("return document.querySelectorAll('table caption').length")
        colours = browser.execute_script(
            "var bar = document.querySelector('#chart-bookings svg .bar');"
            "return [getComputedStyle(bar).fill, getComputedStyle(document.body).backgroundColor,"
            " getComputedStyle(document.querySelector('#chart-bookings svg text')).fill,"
            " getComputedStyle(document.body).color];")
        return _tiles(browser), _shoot_sections(browser, tmp_path, f"dashboard-{scheme}"), \
            axe_violations(browser), (tables, colours)

    tiles, shots, violations, (tables, colours) = await asyncio.to_thread(look)
    assert tiles["Bookings"] == "2" and tiles["Paid"] == "2" and tiles["Searches"] == "2"
    assert tiles["Revenue"].startswith(("£", "$", "€"))
    assert tables >= 6
    bar_fill, background, text_fill, text_colour = colours
    assert bar_fill != background and text_fill == text_colour  # chart text follows the theme's text colour
    assert all(shot.stat().st_size > 10_000 for shot in shots)
    assert not violations, violations


async def test_the_csv_export_downloads_with_the_init_data(paying: PayingBot, browser: Any, tmp_path: Path) -> None:
    await _paid_twice(paying)
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    def export() -> tuple[str, list[Path]]:
        browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        _open(browser, paying, ADMIN_ID, LIGHT, "light")
        wait_until(browser, _drawn, what="the dashboard drawn")
        browser.find_element("id", "export").click()
        wait_until(browser, lambda d: "Downloaded" in _text(d, "export-status"), what="the export's outcome")
        deadline = time.monotonic() + 10
        while not list(downloads.glob("*.csv")) and time.monotonic() < deadline:
            time.sleep(0.1)
        return _text(browser, "export-status"), list(downloads.glob("*.csv"))

    said, files = await asyncio.to_thread(export)
    today = paying.bot.clock.now().date().isoformat()
    assert f"flyo-bookings-{today}.csv" in said
    assert [f.name for f in files] == [f"flyo-bookings-{today}.csv"]
    rows = list(csv.reader(io.StringIO(files[0].read_text())))
    assert rows[0][0] == "reference" and len(rows) == 3


async def test_a_traveller_sees_the_refusal_and_no_numbers(paying: PayingBot, browser: Any, tmp_path: Path) -> None:
    await _paid_twice(paying)

    def look() -> tuple[str, bool, int, str, Path]:
        _open(browser, paying, 6201, LIGHT, "light")
        wait_until(browser, lambda d: "admins" in _text(d, "notice"), what="the refusal")
        hidden = browser.execute_script("return document.getElementById('content').hidden")
        charts = browser.execute_script("return document.querySelectorAll('svg').length")
        return _text(browser, "notice"), hidden, charts, browser.find_element("tag name", "body").text, \
            shoot(browser, tmp_path, "dashboard-refused")

    notice, hidden, charts, body, _shot = await asyncio.to_thread(look)
    assert notice == "This page is for FlyO admins."
    assert hidden and charts == 0 and "LHR" not in body and "£" not in body


async def test_expired_init_data_says_so(paying: PayingBot, browser: Any, tmp_path: Path) -> None:
    def look() -> str:
        old = paying.bot.clock.now().timestamp() - paying.bot.settings.WEBAPP_AUTH_MAX_AGE_SECONDS - 60
        data = init_data(paying.bot.settings.bot_token, ADMIN_ID, signed_at=old)
        browser.get(f"{paying.bot.url}/app/dashboard/" + fragment(data))  # no Telegram: from the URL fragment
        wait_until(browser, lambda d: "expired" in _text(d, "notice"), what="the expiry explained")
        return _text(browser, "notice")

    assert "Open it again" in await asyncio.to_thread(look)
