"""Demo checkout (terminal chat only), the Stripe return pages, and webhook secret rotation.

The demo checkout must never hand out free flights: it is mounted only where the Bot API is the console's own,
a GET (a link preview, a curious click) only shows a confirm page, the session id is unguessable, an expired
or used session is refused like Stripe refuses it, and every demo confirmation says no money was taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.console.app import console_settings
from bot.runtime import create_web_app
from core.clock import Clock
from core.config import ConfigError
from core.database import Database
from models import Booking, BookingStatus
from models.ops import PaymentAttempt, WebhookEvent
from services.context import Services
from tests.fakes.stripe import FakeStripe, build_event, sign_payload
from tests.flows import book_to_review, eventually
from tests.harness import RunningBot, make_settings, running_bot
from webhooks.keys import SERVICES


async def http(method: str, url: str, **kwargs: Any) -> tuple[int, str]:
    async with aiohttp.ClientSession() as client, client.request(method, url, allow_redirects=False,
                                                                  **kwargs) as response:
        return response.status, await response.text()


@dataclass
class DemoBot:
    """FlyO as the terminal chat runs it: the Bot API (here the fake) is marked as the console's own."""

    app: web.Application
    url: str
    clock: Clock
    telegram: Any
    outbox: Path

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    async def booked_with_link(self, traveller: Any) -> tuple[Booking, str]:
        await book_to_review(traveller, self.clock)
        await traveller.press("Confirm and pay")
        message = await traveller.wait_for("Pay")
        assert "DEMO" in message.plain_text()
        urls = [b.url for row in message.buttons for b in row if b.url]
        booking = await Booking.find_one(Booking.user_id == traveller.user_id)
        assert booking is not None and booking.payment.url and urls == [booking.payment.url]
        return booking, booking.payment.url

    async def status_of(self, booking: Booking) -> BookingStatus:
        stored = await Booking.get(booking.id)
        assert stored is not None
        return stored.status


@contextlib.asynccontextmanager
async def demo_flyo(database: Database, telegram: Any, data_dir: Path) -> AsyncIterator[DemoBot]:
    user = make_settings(telegram, data_dir, MONGODB_DB=database.db.name)
    settings = console_settings(user, telegram.api_root, telegram.token, admin=False)
    clock = Clock()
    app = create_web_app(settings, clock=clock, seed=False, database=database)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.HTTP_PORT).start()
    try:
        yield DemoBot(app, f"http://127.0.0.1:{settings.HTTP_PORT}", clock, telegram, data_dir / "outbox")
    finally:
        await runner.cleanup()


@pytest.fixture
async def demo(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[DemoBot]:
    async with demo_flyo(inventory_db, telegram, tmp_path) as bot:
        yield bot


# ---- where the demo checkout exists -----------------------------------------------------------------------
def _demo_routes(app: web.Application) -> list[str]:
    return [r.canonical for r in app.router.resources() if r.canonical.startswith("/demo")]


async def test_no_demo_routes_on_a_normal_flyo(bot: RunningBot) -> None:
    assert _demo_routes(bot.app) == []
    for method in ("GET", "POST", "HEAD"):
        status, _ = await http(method, f"{bot.url}/demo/checkout/cs_demo_000000000000000000000000_1")
        assert status == 404, method


async def test_no_demo_routes_with_stripe_either(paying: Any) -> None:
    assert _demo_routes(paying.bot.app) == []
    status, _ = await http("POST", f"{paying.bot.url}/demo/checkout/cs_demo_x_1")
    assert status == 404


def test_demo_payments_outside_the_console_are_refused_at_start(telegram: Any, tmp_path: Path) -> None:
    # Settings that skipped validation (a copy) with DEMO_PAYMENTS on a Bot API that is not the console's own.
    forced = make_settings(telegram, tmp_path).model_copy(update={"DEMO_PAYMENTS": True})
    with pytest.raises(ConfigError, match="DEMO_PAYMENTS"):
        create_web_app(forced, seed=False)
    # The console's settings, pointed elsewhere afterwards, lose the right too.
    moved = console_settings(make_settings(telegram, tmp_path), telegram.api_root, telegram.token, admin=False)
    moved = moved.model_copy(update={"TELEGRAM_API_URL": "http://127.0.0.1:1"})
    assert not moved.demo_payments
    with pytest.raises(ConfigError, match="DEMO_PAYMENTS"):
        create_web_app(moved, seed=False)


# ---- the demo checkout ----------------------------------------------------------------------------------
async def test_session_id_is_unguessable(demo: DemoBot) -> None:
    ada = demo.telegram.traveller(6101)
    booking, url = await demo.booked_with_link(ada)
    session_id = url.rsplit("/", 1)[1]
    assert str(booking.id) not in session_id
    assert re.fullmatch(r"cs_demo_[A-Za-z0-9_-]{40,}", session_id), session_id


async def test_get_shows_a_confirm_page_and_never_pays(demo: DemoBot) -> None:
    ada = demo.telegram.traveller(6102)
    booking, url = await demo.booked_with_link(ada)
    for method in ("GET", "HEAD", "GET"):  # a link-preview fetcher, a prefetch, a person looking
        status, page = await http(method, url)
        assert status == 200, method
    assert re.search(r"<form[^>]*method=[\"']post[\"']", page, re.IGNORECASE), page
    assert "Pay (demo)" in page and booking.reference in page and "no money" in page.lower()
    assert await demo.status_of(booking) == BookingStatus.PENDING
    assert await WebhookEvent.count() == 0


async def test_post_pays_once_and_the_confirmation_says_demo(demo: DemoBot) -> None:
    ada = demo.telegram.traveller(6103)
    booking, url = await demo.booked_with_link(ada)
    status, page = await http("POST", url)
    assert status == 200, page
    assert "DEMO" in page and "no money" in page.lower()
    confirmed = await ada.wait_for("is confirmed")  # the inbox worker applied the queued event
    assert await demo.status_of(booking) == BookingStatus.CONFIRMED
    text = confirmed.plain_text()
    assert "DEMO" in text and "no money" in text.lower(), text
    await demo.services.notifications.deliver_due()
    mails = await eventually(lambda: asyncio.to_thread(_mails, demo.outbox, booking.reference), timeout=15)
    confirmation = [m for m in mails if "confirmed" in m.lower()]
    assert confirmation and "DEMO" in confirmation[0] and "no money" in confirmation[0].lower()

    again, page = await http("POST", url)  # Stripe shows a paid session as done; it never charges again
    assert again == 409 and "already" in page.lower()
    status, page = await http("GET", url)
    assert status == 409 and "Pay (demo)" not in page
    assert await WebhookEvent.count() == 1


def _mails(outbox: Path, reference: str) -> list[str]:
    """Subject and decoded bodies of the outbox's e-mails about `reference` that say "confirmed"."""
    found = []
    for path in sorted(outbox.rglob("*.eml")) if outbox.is_dir() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        parts = [str(message["Subject"])] + [str(p.get_content()) for p in message.walk()
                                             if p.get_content_maintype() == "text"]
        text = "\n".join(parts)
        if reference in text and "confirmed" in text.lower():
            found.append(text)
    return found


async def test_expired_session_is_refused(demo: DemoBot) -> None:
    ada = demo.telegram.traveller(6104)
    booking, url = await demo.booked_with_link(ada)
    demo.clock.advance(timedelta(minutes=demo.services.settings.PAYMENT_WINDOW_MINUTES + 2))
    for method in ("GET", "POST"):
        status, page = await http(method, url)
        assert status == 410 and "expired" in page.lower(), (method, page)
        assert "Pay (demo)" not in page
    assert await demo.status_of(booking) == BookingStatus.PENDING
    assert await WebhookEvent.count() == 0


async def test_a_session_expired_by_flyo_is_refused(demo: DemoBot) -> None:
    ada = demo.telegram.traveller(6105)
    booking, url = await demo.booked_with_link(ada)
    payments = demo.services.payments
    assert payments is not None and payments.gateway is not None
    await payments.gateway.expire_checkout(url.rsplit("/", 1)[1])  # e.g. "pay again" made a new link
    status, page = await http("POST", url)
    assert status == 410 and "expired" in page.lower()
    assert await demo.status_of(booking) == BookingStatus.PENDING
    attempt = await PaymentAttempt.find_one(PaymentAttempt.booking_id == str(booking.id))
    assert attempt is not None and attempt.status == "expired"


async def test_unknown_session_is_404(demo: DemoBot) -> None:
    for method in ("GET", "POST"):
        status, page = await http(method, f"{demo.url}/demo/checkout/cs_demo_nope<script>")
        assert status == 404 and "<script>" not in page


# ---- /paid and /unpaid ----------------------------------------------------------------------------------
async def test_return_pages_link_back_to_the_bot(bot: RunningBot) -> None:
    status, page = await http("GET", f"{bot.url}/paid?ref=K7Q2MX")
    assert status == 200
    assert "Payment received" in page and "return to Telegram" in page and "K7Q2MX" in page
    assert "tg://resolve?domain=flyo_test_bot" in page and "https://t.me/flyo_test_bot" in page
    status, page = await http("GET", f"{bot.url}/unpaid?ref=K7Q2MX")
    assert status == 200
    assert "Payment not completed" in page and "pay again from the chat" in page and "K7Q2MX" in page
    assert "https://t.me/flyo_test_bot" in page
    status, page = await http("GET", f"{bot.url}/paid")  # no ref at all
    assert status == 200 and "Payment received" in page


@pytest.mark.parametrize("ref", ['"><script>alert(1)</script>', "K7Q2MX<img src=x onerror=alert(1)>",
                                 "k7q2mx", "K7Q2MXX", "javascript:alert(1)"])
async def test_return_pages_do_not_reflect_a_malicious_ref(bot: RunningBot, ref: str) -> None:
    for path in ("/paid", "/unpaid"):
        status, page = await http("GET", f"{bot.url}{path}", params={"ref": ref})
        assert status == 200
        assert ref not in page and "alert" not in page and "onerror" not in page and "<script" not in page


async def test_return_page_without_a_bot_username_omits_the_link(bot: RunningBot) -> None:
    from webhooks import pages

    assert "t.me" not in pages.render_page(pages.PAID, None, "")
    assert "K7Q2MX" in pages.render_page(pages.UNPAID, None, "K7Q2MX")


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                    reason="no Chromium on this machine (Debian: apt install chromium); the HTML is checked above")
async def test_paid_page_renders_in_headless_chromium(bot: RunningBot, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser is not None
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom", f"{bot.url}/paid?ref=K7Q2MX"]
    process = await asyncio.create_subprocess_exec(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dom, _ = await asyncio.wait_for(process.communicate(), 90)
    text = dom.decode(errors="replace")
    assert "Payment received" in text and "K7Q2MX" in text


# ---- STRIPE_WEBHOOK_SECRET rotation ---------------------------------------------------------------------
async def test_webhook_accepts_either_secret_while_rotating(inventory_db: Database, telegram: Any,
                                                            tmp_path: Path) -> None:
    async with FakeStripe() as stripe, running_bot(
        inventory_db, telegram, tmp_path, STRIPE_SECRET_KEY="sk_test_flyo", STRIPE_API_URL=stripe.url,
        STRIPE_WEBHOOK_SECRET="whsec_old_rotating,whsec_new_rotating",
    ) as bot:
        for secret, expected in (("whsec_old_rotating", 200), ("whsec_new_rotating", 200),
                                 ("whsec_someone_else", 400), ("whsec_old_rotating,whsec_new_rotating", 400)):
            payload = json.dumps(build_event("customer.created", {"id": "cus_1", "object": "customer"})).encode()
            status, body = await http("POST", f"{bot.url}/webhooks/stripe", data=payload, headers={
                "Content-Type": "application/json", "Stripe-Signature": sign_payload(payload, secret)})
            assert status == expected, (secret, body)
    # The overlap is over: the old secret is removed, and what it signs is refused from then on.
    async with FakeStripe() as stripe, running_bot(
        inventory_db, telegram, tmp_path, STRIPE_SECRET_KEY="sk_test_flyo", STRIPE_API_URL=stripe.url,
        STRIPE_WEBHOOK_SECRET="whsec_new_rotating",
    ) as bot:
        for secret, expected in (("whsec_old_rotating", 400), ("whsec_new_rotating", 200)):
            payload = json.dumps(build_event("customer.created", {"id": "cus_2", "object": "customer"})).encode()
            status, body = await http("POST", f"{bot.url}/webhooks/stripe", data=payload, headers={
                "Content-Type": "application/json", "Stripe-Signature": sign_payload(payload, secret)})
            assert status == expected, (secret, body)
