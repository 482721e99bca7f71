"""A SendGrid that accepts connections and never answers must cost FlyO nothing but the e-mails' delay.

Before: python_http_client has no socket timeout, so each send kept a thread of the default executor
blocked for good (asyncio.wait_for gave up, the thread did not); a handful of sends starved the DNS
look-ups every Telegram, Stripe and Amadeus call needs.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from core.database import Database
from models.ops import Notification
from services.mailer import Email, MailError, SendGridMailer
from tests.fakes.sendgrid import FakeSendGrid
from tests.harness import running_bot
from tests.ops.helpers import eventually

SOCKET_TIMEOUT = 1.0


def _email(i: int) -> Email:
    return Email(f"hang-direct-{i}", f"traveller{i}@example.com", "Your booking", "Hello", "<p>Hello</p>")


@pytest.mark.slow  # SendGrid hangs for real: sockets time out after SOCKET_TIMEOUT
async def test_a_silent_sendgrid_never_starves_telegram_or_dns(inventory_db: Database, telegram: Any,
                                                                tmp_path: Path) -> None:
    async with FakeSendGrid() as sendgrid:
        sendgrid.hang()
        async with running_bot(inventory_db, telegram, tmp_path, SENDGRID_API_KEY="SG.flyo-test",
                               SENDGRID_API_URL=sendgrid.url, EMAIL_FROM="tickets@flyo.test") as bot:
            mailer = SendGridMailer("SG.flyo-test", sendgrid.url, "tickets@flyo.test", timeout=SOCKET_TIMEOUT)
            notifications = bot.services.notifications
            notifications.mailer = mailer  # the real outbox and pump, with a 1 s socket timeout
            try:
                # 20 e-mails in the outbox (the pump sends them) and 20 more sent all at once.
                for i in range(20):
                    await notifications.email(f"hang-outbox-{i}", f"guest{i}@example.com", "Your booking",
                                              "Hello", "<p>Hello</p>")
                sends = [asyncio.ensure_future(mailer.send(_email(i))) for i in range(20)]
                await sendgrid.wait_for_hung(4, timeout=20)

                # While SendGrid holds those connections, the default executor still resolves names…
                loop = asyncio.get_running_loop()
                resolved = await asyncio.wait_for(loop.getaddrinfo("localhost", 80), timeout=10)
                assert resolved
                # …and a traveller is answered as usual.
                ada = bot.telegram.traveller(6101)
                await ada.send("/help")
                await ada.wait_for("books flights right here", timeout=15)

                held = {t.name for t in threading.enumerate() if t.name.startswith("flyo-sendgrid")}
                assert 1 <= len(held) <= 4, held  # SendGrid's own small pool does the waiting

                # Each send gives up after the socket timeout, as a retryable failure.
                results = await asyncio.wait_for(asyncio.gather(*sends, return_exceptions=True), timeout=60)
                assert all(isinstance(r, MailError) and r.retryable for r in results), results
                assert all("did not answer" in str(r) for r in results), results

                # The outbox keeps its e-mails for a later attempt instead of dropping them.
                async def retried() -> bool:
                    row = await Notification.find_one(Notification.key == "hang-outbox-0")
                    return row is not None and row.status == "pending" and row.attempts >= 1
                await eventually(retried, "the first outbox e-mail scheduled for a retry", within=30)
                row = await Notification.find_one(Notification.key == "hang-outbox-0")
                assert row is not None and "did not answer" in row.last_error
            finally:
                await mailer.close()
    assert sendgrid.messages == []  # nothing was delivered twice behind our back either


async def test_close_stops_the_mailer_threads(tmp_path: Path) -> None:
    async with FakeSendGrid() as sendgrid:
        before = set(threading.enumerate())
        mailer = SendGridMailer("SG.flyo-test", sendgrid.url, "tickets@flyo.test", timeout=SOCKET_TIMEOUT)
        assert (await mailer.send(_email(1))).startswith("sendgrid:")
        mine = [t for t in set(threading.enumerate()) - before if t.name.startswith("flyo-sendgrid")]
        assert mine, "the send did not run on the mailer's own threads"
        await mailer.close()

        async def gone() -> bool:
            return not any(t.is_alive() for t in mine)
        await eventually(gone, "the SendGrid threads to end", within=10)
        try:
            await mailer.send(_email(2))
        except MailError as exc:
            assert exc.retryable and "closed" in str(exc)  # another process (or a restart) can still send it
        else:
            raise AssertionError("a closed mailer sent an e-mail")
