"""`kill -9` after answering Stripe: the stored event is applied by the next process, exactly once.

A real `python -m bot` with its inbox worker off takes a signed `checkout.session.completed` (200), is killed,
and a second one with the worker on confirms the booking and sends one chat message and one e-mail.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.db import free_port
from core.clock import Clock
from core.database import Database
from models import Booking, BookingStatus
from models.booking import Passenger
from models.ops import Notification, WebhookEvent
from services.bookings import BookingRules, BookingService, NewBooking, NewSegment
from services.flights import FlightSearch
from services.mailer import OutboxMailer
from services.notifications import NotificationService
from services.payments import PaymentService
from services.reference import ReferenceData
from services.seats import SeatService, chat_holder
from services.stripe_gateway import StripeGateway
from tests.children import healthy, start_flyo
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.stripe import FakeStripe, build_event, sign_payload
from tests.flows import eventually

pytestmark = pytest.mark.slow  # two `python -m bot` child processes, one of them killed

SECRET = "whsec_kill9_secret"
USER = 8301


def _start_bot(telegram: Any, stripe: FakeStripe, sendgrid: FakeSendGrid, mongo_uri: str, db_name: str,
               data_dir: Path, port: int, *, worker: bool) -> subprocess.Popen[bytes]:
    return start_flyo(telegram, mongo_uri, db_name, data_dir, port, STRIPE_SECRET_KEY="sk_test_kill9",
                      STRIPE_WEBHOOK_SECRET=SECRET, STRIPE_API_URL=stripe.url, SENDGRID_API_KEY="SG.kill9",
                      SENDGRID_API_URL=sendgrid.url, EMAIL_FROM="tickets@flyo.test",
                      INBOX_WORKER_ENABLED="1" if worker else "0")


async def _booking_with_session(stripe: FakeStripe, tmp_path: Path) -> tuple[Booking, str]:
    """A PENDING booking with an open Checkout session on the fake, made through the services."""
    clock = Clock()
    seats = SeatService(clock, hold_minutes=15)
    bookings = BookingService(clock, seats, BookingRules())
    notifications = NotificationService(clock, OutboxMailer(tmp_path / "unused", ""), frozenset())
    gateway = StripeGateway("sk_test_kill9", stripe.url)
    payments = PaymentService(clock, bookings, seats, notifications, gateway, ReferenceData(),
                              public_url="http://127.0.0.1:9")
    try:
        found = await FlightSearch(seats).search(["LHR"], ["JFK"], clock.now().date() + timedelta(days=8), 1)
        flight = found.options[0].flight
        cabin = next(iter(flight.fares))
        taken = await seats.taken(str(flight.id))
        seat = next(f"{row}{letter}" for row in range(30, 60) for letter in "ABC" if f"{row}{letter}" not in taken)
        await seats.hold(str(flight.id), seat, chat_holder(USER), cabin)
        booking = await bookings.create(NewBooking(
            user_id=USER, chat_id=USER, segments=[NewSegment(flight, cabin, [seat], flight.fares[cabin])],
            passengers=[Passenger(full_name="Ada Lovelace", birth_date=date(1980, 1, 1))],
            email="ada@example.com", draft_key=f"{USER}:1"),
            chat_holder(USER))
        link = await payments.ensure_link(booking)
    finally:
        await gateway.close()
    assert link.booking.payment.session_id
    return link.booking, link.booking.payment.session_id


async def test_kill_9_after_the_200_loses_no_event_and_confirms_once(inventory_db: Database, telegram: Any,
                                                                     mongo_uri: str, tmp_path: Path) -> None:
    telegram.strict_chats = False
    ada = telegram.traveller(USER)
    async with FakeStripe() as stripe, FakeSendGrid() as sendgrid:
        booking, session_id = await _booking_with_session(stripe, tmp_path)
        event = build_event("checkout.session.completed", stripe.complete_session(session_id))
        payload = json.dumps(event).encode()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        start = (telegram, stripe, sendgrid, mongo_uri, inventory_db.db.name, tmp_path / "data", port)

        first = _start_bot(*start, worker=False)
        try:
            await eventually(lambda: healthy(url), timeout=60, interval=0.2)
            async with aiohttp.ClientSession() as client, client.post(
                f"{url}/webhooks/stripe", data=payload,
                headers={"Stripe-Signature": sign_payload(payload, SECRET), "Content-Type": "application/json"},
            ) as response:
                assert response.status == 200 and await response.json() == {"received": True}
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        stored = await WebhookEvent.find_one(WebhookEvent.event_id == event["id"])
        assert stored is not None and stored.status == "pending"  # answered, stored, not applied
        assert (await Booking.get(booking.id)).status == BookingStatus.PENDING  # type: ignore[union-attr]

        second = _start_bot(*start, worker=True)
        try:
            async def confirmed() -> bool:
                found = await Booking.get(booking.id)
                return found is not None and found.status == BookingStatus.CONFIRMED

            await eventually(confirmed, timeout=60, interval=0.1)

            async def delivered() -> bool:
                idle = await Notification.find(Notification.booking_reference == booking.reference,
                                               {"status": {"$ne": "sent"}}).count() == 0
                return idle and len(sendgrid.messages_to("ada@example.com")) >= 1 and any(
                    "is confirmed" in m.plain_text() for m in ada.messages())

            await eventually(delivered, timeout=30, interval=0.1)
            stored = await WebhookEvent.find_one(WebhookEvent.event_id == event["id"])
            assert stored is not None and (stored.status, stored.outcome) == ("done", "confirmed")
            assert sum("is confirmed" in m.plain_text() for m in ada.messages()) == 1
            assert len(sendgrid.messages_to("ada@example.com")) == 1
            keys = [n.key for n in await Notification.find(Notification.booking_reference == booking.reference)
                    .to_list()]
            assert sorted(keys) == sorted([f"confirm-chat:{booking.id}", f"confirm-tickets:{booking.id}",
                                           f"confirm-email:{booking.id}"])
            # the e-ticket went once too: one PDF and one calendar file in the chat
            names = [m.document.filename for m in ada.messages() if m.document is not None]
            assert sorted(names) == sorted([f"FlyO-e-ticket-{booking.reference}.pdf", f"FlyO-{booking.reference}.ics"])
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(second.wait, 30) == 0
