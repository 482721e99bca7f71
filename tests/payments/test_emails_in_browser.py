"""The e-mails opened in a real browser (Debian's Chromium driven by Selenium) at a desktop mail column (600 px)
and a phone (360 px), with screenshots (kept under the test's tmp dir, and in FLYO_SCREENSHOTS if set)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from models.booking import BookingStatus
from services import emails
from tests.browser import BROWSER_TESTS, chromium, viewport
from tests.payments.test_email_design import AIRPORTS, one_way, return_with_connection

pytestmark = BROWSER_TESTS


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile", 600, 900) as driver:
        yield driver


def with_infant() -> Any:
    """One way for Ada with a baby on her lap, sold under the Standard fare's conditions."""
    booking = one_way()
    segment = booking.segments[0]
    segment.seats, segment.infant_fare, segment.fare_rule = ["12A"], 4435, "standard"
    booking.passengers[1].full_name, booking.passengers[1].on_lap = "Ella Lovelace", True
    booking.price.infants, booking.price.total = 1, 44350 + 4435
    booking.payment.amount_paid = booking.price.total
    return booking


MAILS = {
    "confirmation-infant": lambda: emails.confirmation(with_infant(), AIRPORTS, bot_username="FlyOBot"),
    "confirmation-one-way": lambda: emails.confirmation(one_way(), AIRPORTS, bot_username="FlyOBot"),
    "confirmation-return-connection": lambda: emails.confirmation(return_with_connection(), AIRPORTS,
                                                                  pnr="Q7XK2L", order_id="o-1"),
    "confirmation-demo": lambda: emails.confirmation(one_way(demo=True), AIRPORTS),
    "payment-link": lambda: emails.payment_link(one_way(status=BookingStatus.PENDING),
                                                "https://checkout.stripe.com/c/pay/cs_test_1", "", AIRPORTS, False),
    "cancellation-refund": lambda: emails.cancellation(
        return_with_connection(status=BookingStatus.CANCELLED, refunded=True), AIRPORTS,
        "We refunded £1,850.00 to your card.", bot_username="FlyOBot"),
}


@pytest.mark.parametrize("name", sorted(MAILS))
@pytest.mark.parametrize("width", [600, 360])
def test_each_email_in_chromium(browser: Any, tmp_path: Path, name: str, width: int) -> None:
    from selenium.webdriver.common.by import By

    _subject, _text, html = MAILS[name]()
    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    viewport(browser, width, 900)
    browser.get(page.as_uri())
    assert browser.execute_script("return window.innerWidth") == width
    height = browser.execute_script("return document.documentElement.scrollHeight")
    viewport(browser, width, min(height + 120, 4000))
    fits = browser.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot = Path(os.environ.get("FLYO_SCREENSHOTS") or tmp_path) / f"{name}-{width}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(shot))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "ABC234" in body
    if name == "confirmation-infant":
        assert "infant on a lap, no seat" in body and "Fare conditions" in body and "£487.85" in body
    assert fits, f"{name} scrolls sideways at {width} px"
    assert not browser.execute_script("return document.querySelectorAll('script').length")
    assert shot.stat().st_size > 1000
