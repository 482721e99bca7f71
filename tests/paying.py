"""A FlyO with Stripe and SendGrid configured, both pointing at loopback fakes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.database import Database
from models import Booking, BookingStatus
from models.ops import InboxStatus, WebhookEvent
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.stripe import FakeStripe, build_event, sign_payload
from tests.flows import book_to_review, drain_outbox, fill_passenger, to_passengers
from tests.harness import RunningBot, running_bot
from tests.invariants import assert_seat_and_money_invariants

WEBHOOK_SECRET = "whsec_flyo_test_secret"
ADMIN_ID = 4242


@dataclass
class PayingBot:
    bot: RunningBot
    stripe: FakeStripe
    sendgrid: FakeSendGrid

    @property
    def telegram(self) -> Any:
        return self.bot.telegram

    @property
    def services(self) -> Any:
        return self.bot.services

    async def post_event(self, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
                         signature: str | None = None, body: bytes | None = None,
                         headers: dict[str, str] | None = None, process: bool = True
                         ) -> tuple[int, dict[str, Any]]:
        """POST a signed event as Stripe does; then (`process`) let the inbox worker apply what is due.

        The route only stores the event and answers `{"received": true}`; the returned body also carries the
        event's `outcome` from its inbox row once processed ("duplicate" when the route recognised the id,
        "ignored" for a type FlyO does not handle, "received" while it is waiting for a retry).
        """
        payload = body if body is not None else json.dumps(event).encode()
        sent_headers = {"Content-Type": "application/json"}
        if signature != "":
            sent_headers["Stripe-Signature"] = signature or sign_payload(payload, secret)
        sent_headers.update(headers or {})
        async with aiohttp.ClientSession() as client, client.post(
            f"{self.bot.url}/webhooks/stripe", data=payload, headers=sent_headers
        ) as response:
            status, answer = response.status, await response.json(content_type=None)
        if status != 200 or not process or "outcome" in answer:
            return status, answer
        if answer.get("duplicate"):
            return status, {**answer, "outcome": "duplicate"}
        await process_inbox(self.services)
        row = await WebhookEvent.find_one(WebhookEvent.event_id == str(event.get("id")))
        return status, {**answer, "outcome": row.outcome if row is not None else "missing"}

    async def process_inbox(self, timeout: float = 10.0) -> int:
        return await process_inbox(self.services, timeout)

    async def deliver(self) -> None:
        """Run the outbox once now (the pump does the same within moments)."""
        await self.services.notifications.deliver_due()

    def completed_event(self, session_id: str, **overrides: Any) -> dict[str, Any]:
        session = self.stripe.complete_session(session_id, **overrides)
        return build_event("checkout.session.completed", session)

    async def paid_booking(self, traveller: Any, names: list[str]) -> Booking:
        """Book LHR → JFK for these passengers (born 1970, 1971…), pay through the signed webhook, deliver the
        outbox; returns the CONFIRMED booking as stored."""
        await to_passengers(traveller, self.bot.clock, pax=len(names))
        for index, name in enumerate(names):
            if index:
                await traveller.wait_for(f"Passenger {index + 1} of")
            await fill_passenger(traveller, index, name, f"19{70 + index}-04-2{index}", "ada@example.com")
        await traveller.wait_for("Please review your booking")
        await traveller.press("Confirm and pay")
        await traveller.wait_for("Pay")
        booking = await Booking.find(Booking.user_id == traveller.user_id).sort("-created_at").first_or_none()
        assert booking is not None and booking.payment.session_id
        status, body = await self.post_event(self.completed_event(booking.payment.session_id))
        assert (status, body["outcome"]) == (200, "confirmed")
        await drain_outbox(self.services, timeout=30)
        fresh = await Booking.get(booking.id)
        assert fresh is not None and fresh.status == BookingStatus.CONFIRMED
        return fresh

    async def booked_with_link(self, traveller: Any, pax: int = 1, days_ahead: int = 10) -> tuple[Booking, str]:
        """Drive the traveller to the payment link; returns the (newest) booking and its Checkout session id."""
        await book_to_review(traveller, self.bot.clock, pax=pax, days_ahead=days_ahead)
        await traveller.press("Confirm and pay")
        message = await traveller.wait_for("Pay")
        urls = [b.url for row in message.buttons for b in row if b.url]
        assert urls, f"no URL button in {message.text!r}"
        booking = await Booking.find(Booking.user_id == traveller.user_id).sort("-created_at").first_or_none()
        assert booking is not None and booking.payment.session_id
        assert urls[0] == booking.payment.url
        return booking, booking.payment.session_id


async def process_inbox(services: Any, timeout: float = 10.0) -> int:
    """Apply the Stripe inbox until it is idle; returns how many attempts this call made.

    Idle: a round attempts nothing, no event is claimed (by this process's worker, which may run concurrently)
    and none is pending and due now by the services' clock. Events waiting for a later retry (backoff) are not
    due and do not count. Polls with a deadline; no fixed sleeps.
    """
    inbox = services.payment_events.inbox
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    attempted = 0
    while True:
        done: int = await inbox.process_due()
        attempted += done
        now = inbox.clock.now_ms()
        claimed = await WebhookEvent.find({"status": InboxStatus.CLAIMED}).count()
        due = await WebhookEvent.find({"status": InboxStatus.PENDING, "next_attempt_ms": {"$lte": now}}).count()
        if done == 0 and claimed == 0 and due == 0:
            return attempted
        if loop.time() > deadline:
            raise AssertionError(f"inbox not idle within {timeout}s: {claimed} claimed, {due} due")
        if done == 0:
            await asyncio.sleep(0.01)  # the worker holds an event (or one waits behind it): let it finish


@contextlib.asynccontextmanager
async def paying_bot(inventory_db: Database, telegram: Any, tmp_path: Path, **overrides: Any
                     ) -> AsyncIterator[PayingBot]:
    """FlyO with Stripe and SendGrid at loopback fakes; `overrides` are extra settings."""
    async with FakeStripe() as fake_stripe, FakeSendGrid() as fake_sendgrid:
        telegram.strict_chats = False  # admins get alerts in chats the test never opened
        overrides.setdefault("FLOOD_MAX_UPDATES", 100)  # scripts tap faster than people (tests/conftest.py)
        async with running_bot(
            inventory_db, telegram, tmp_path,
            STRIPE_SECRET_KEY="sk_test_flyo", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_URL=fake_stripe.url,
            SENDGRID_API_KEY="SG.flyo-test", SENDGRID_API_URL=fake_sendgrid.url, EMAIL_FROM="tickets@flyo.test",
            ADMIN_IDS=str(ADMIN_ID), **overrides,
        ) as bot:
            yield PayingBot(bot, fake_stripe, fake_sendgrid)
            await assert_seat_and_money_invariants()  # every payment test ends in a state that may exist


@pytest.fixture
async def paying(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[PayingBot]:
    async with paying_bot(inventory_db, telegram, tmp_path) as bot:
        yield bot
