"""The seat map Mini App in a real browser (Debian's Chromium through Selenium, 390×844, no internet): opened as
Telegram opens it, two seats picked and confirmed with Telegram's main button → the holds exist and the chat asks
for the passengers; a seat taken between drawing and confirming → the page says so and redraws; the page working
without Telegram's script (init data from the URL fragment); expired or forged init data → refused, nothing
drawn; the dark theme; and an axe-core accessibility scan. Screenshots go to the test's tmp dir (and
FLYO_SCREENSHOTS)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from services.seats import chat_holder
from tests.browser import BROWSER_TESTS
from tests.harness import RunningBot
from tests.miniapp.conftest import SeatPage, to_seat_page
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

pytestmark = BROWSER_TESTS


def _open(driver: Any, page: SeatPage, data: str | None = None, theme: dict[str, str] | None = None) -> None:
    driver.get(f"{page.bot.url}/app/seats/?f={page.flow}" + fragment(data or page.init_data, theme))


def _free_seats(driver: Any) -> list[str]:
    """The codes of the free seats drawn now, read in one step (the map may be redrawn between two reads)."""
    return list(driver.execute_script(
        "return Array.from(document.querySelectorAll('button.seat'))"
        ".filter(function (b) { return !b.classList.contains('taken') && !b.classList.contains('chosen'); })"
        ".map(function (b) { return b.dataset.seat; });"))


def _seat_label(driver: Any, code: str) -> str:
    return str(driver.execute_script(f"return document.querySelector('.seat[data-seat=\"{code}\"]')"
                                     ".getAttribute('aria-label')"))


def _click_seat(driver: Any, code: str) -> None:
    """Tap a seat by its code, found again each time: the map is redrawn after every tap, and by the page's own
    refresh when a seat changed elsewhere (a redraw between finding and tapping is retried)."""
    from selenium.common.exceptions import StaleElementReferenceException

    for attempt in range(5):
        try:
            driver.find_element("css selector", f'.seat[data-seat="{code}"]').click()
            return
        except StaleElementReferenceException:
            if attempt == 4:
                raise


def _text(driver: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, element_id).text)


async def _mine(bot: RunningBot, page: SeatPage) -> set[str]:
    conv = await bot.services.conversations.load(page.traveller.user_id, page.traveller.user_id)
    flight_id = conv.draft["picks"][0]["flight_id"]
    state = await bot.services.seats.taken(flight_id, chat_holder(page.traveller.user_id))
    return {seat for seat, who in state.items() if who == "mine"}


async def test_pick_two_seats_and_confirm_inside_telegram(app_bot: RunningBot, browser: Any, tmp_path: Path) -> None:
    page = await to_seat_page(app_bot, 5201, pax=2)

    def pick() -> tuple[list[str], Path, list[dict[str, Any]]]:
        as_telegram(browser, page.init_data, theme=LIGHT)
        _open(browser, page)
        wait_until(browser, lambda d: len(_free_seats(d)) > 20, what="the seats drawn")
        codes = _free_seats(browser)[7:9]
        labels = [_seat_label(browser, code) for code in codes]
        assert all(label.startswith(f"Seat {code},") and label.endswith("free") for code, label in zip(
            codes, labels, strict=True))
        for code in codes:
            _click_seat(browser, code)
        wait_until(browser, lambda d: d.find_element("id", "tg-main-button").text == "Confirm seats",
                   what="Telegram's main button offering the confirm")
        assert "Passenger 2: " + codes[1] in _text(browser, "passengers")
        width, fits = browser.execute_script("return [window.innerWidth, "
                                             "document.documentElement.scrollWidth <= window.innerWidth]")
        assert width == 390 and fits, "the seat map scrolls sideways on a phone"
        violations = axe_violations(browser)
        return codes, shoot(browser, tmp_path, "seat-map"), violations

    codes, shot, violations = await asyncio.to_thread(pick)
    assert shot.stat().st_size > 10_000
    assert not violations, violations

    def confirm() -> str:
        browser.find_element("id", "tg-main-button").click()
        wait_until(browser, lambda d: "seats are held" in _text(d, "notice"), what="the confirmation on the page")
        wait_until(browser, lambda d: d.execute_script("return window.__telegram.closed"), what="the page closed")
        return _text(browser, "notice")

    said = await asyncio.to_thread(confirm)
    assert "Return to the chat" in said
    assert await _mine(app_bot, page) == set(codes)
    await page.traveller.wait_for("Passenger 1 of 2")
    assert any(all(code in m.plain_text() for code in codes) and "seat map" in m.plain_text()
               for m in page.traveller.messages())


async def test_a_seat_taken_meanwhile_without_telegrams_script(app_bot: RunningBot, browser: Any,
                                                               tmp_path: Path) -> None:
    page = await to_seat_page(app_bot, 5202, pax=2)

    def pick() -> list[str]:  # no stub: Telegram's script cannot load, the page runs from the URL fragment
        _open(browser, page)
        wait_until(browser, lambda d: len(_free_seats(d)) > 20, what="the seats drawn")
        codes = _free_seats(browser)[:2]
        for code in codes:
            _click_seat(browser, code)
        wait_until(browser, lambda d: d.find_element("id", "confirm").is_enabled(), what="the page's own button")
        return codes

    codes = await asyncio.to_thread(pick)
    conv = await app_bot.services.conversations.load(5202, 5202)
    await app_bot.services.seats.hold(conv.draft["picks"][0]["flight_id"], codes[0], "chat:5299", "economy")

    def confirm() -> tuple[str, str, Path]:
        browser.find_element("id", "confirm").click()
        wait_until(browser, lambda d: "just taken" in _text(d, "notice"), what="the lost seat explained")
        lost = browser.find_element("css selector", f'.seat[data-seat="{codes[0]}"]')
        return _text(browser, "notice"), str(lost.get_attribute("class")), shoot(browser, tmp_path, "seat-map-taken")

    notice, lost_class, _shot = await asyncio.to_thread(confirm)
    assert codes[0] in notice and "taken" in lost_class
    assert await _mine(app_bot, page) == set()  # the seat it won in that request was freed again

    def again() -> str:
        code = _free_seats(browser)[3]
        _click_seat(browser, code)
        browser.find_element("id", "confirm").click()
        wait_until(browser, lambda d: "seats are held" in _text(d, "notice"), what="the second confirm")
        return code

    third = await asyncio.to_thread(again)
    assert await _mine(app_bot, page) == {codes[1], third}
    await page.traveller.wait_for("Passenger 1 of 2")


@pytest.mark.parametrize("case", ["expired", "forged"])
async def test_refused_init_data_draws_nothing(app_bot: RunningBot, browser: Any, case: str) -> None:
    page = await to_seat_page(app_bot, 5203, pax=1)
    token = app_bot.settings.bot_token
    data = init_data(token, 5203, signed_at=app_bot.clock.now().timestamp() - 7200) if case == "expired" else \
        page.init_data.replace("5203", "5204")

    def look() -> tuple[str, int]:
        as_telegram(browser, data)
        _open(browser, page, data)
        wait_until(browser, lambda d: "expired" in _text(d, "notice"), what="the refusal")
        return _text(browser, "notice"), len(browser.find_elements("css selector", "button.seat"))

    notice, seats = await asyncio.to_thread(look)
    assert "Open it again from the FlyO chat" in notice and seats == 0


async def test_dark_theme(app_bot: RunningBot, browser: Any, tmp_path: Path) -> None:
    page = await to_seat_page(app_bot, 5205, pax=1)

    def look() -> tuple[str, str, list[dict[str, Any]]]:
        as_telegram(browser, page.init_data, theme=DARK, scheme="dark")
        _open(browser, page, theme=DARK)
        wait_until(browser, lambda d: len(_free_seats(d)) > 20, what="the seats drawn")
        _click_seat(browser, _free_seats(browser)[0])
        background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        scheme = browser.execute_script("return document.documentElement.dataset.scheme")
        violations = axe_violations(browser)
        shoot(browser, tmp_path, "seat-map-dark")
        return str(background), str(scheme), violations

    background, scheme, violations = await asyncio.to_thread(look)
    assert background == "rgb(33, 33, 33)" and scheme == "dark"
    assert not violations, violations


async def test_the_page_speaks_the_travellers_language(app_bot: RunningBot, browser: Any, tmp_path: Path) -> None:
    """Telegram's app in German: the page's words, the seats' labels and the server's answers are German."""
    page = await to_seat_page(app_bot, 5206, pax=1)
    data = init_data(app_bot.settings.bot_token, 5206, language_code="de")

    def look() -> tuple[str, str, str, str]:
        as_telegram(browser, data)
        _open(browser, page, data)
        wait_until(browser, lambda d: len(_free_seats(d)) > 20, what="the seats drawn")
        first = _free_seats(browser)[0]
        label = _seat_label(browser, first)
        _click_seat(browser, first)
        wait_until(browser, lambda d: d.find_element("id", "tg-main-button").text, what="the main button")
        shoot(browser, tmp_path, "seat-map-de")
        return (_text(browser, "title"), label, browser.find_element("id", "tg-main-button").text,
                str(browser.execute_script("return document.documentElement.lang")))

    title, label, button, lang = await asyncio.to_thread(look)
    assert (title, button, lang) == ("Sitzplätze wählen", "Sitzplätze bestätigen", "de")
    assert label.startswith("Platz ") and label.endswith("frei"), label
