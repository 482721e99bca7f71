"""SMS through Twilio (issue #18): flight changes reach travellers who gave a phone as one GSM-7 SMS each, through
a loopback Twilio fake that checks what the real Messages API checks; STOP (error 21610) and invalid numbers are
not retried; Twilio outages are; a half-configured Twilio is refused at start-up."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from core.database import Database
from models import Booking
from models.flight import Flight
from models.ops import Notification
from services.sms import sms_text
from tests.fakes.twilio import GSM, FakeTwilio, segments
from tests.flows import drain_outbox
from tests.paying import ADMIN_ID, PayingBot, paying_bot

SID = "AC" + "a1" * 16
TOKEN = "twilio-test-token"
PHONE = "+442079460958"


@contextlib.asynccontextmanager
async def _texting(inventory_db: Database, telegram: Any,
                   tmp_path: Path) -> AsyncIterator[tuple[PayingBot, FakeTwilio]]:
    async with FakeTwilio(SID, TOKEN) as twilio, paying_bot(
            inventory_db, telegram, tmp_path, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN,
            TWILIO_FROM="+15005550006", TWILIO_API_URL=twilio.url) as paying:
        yield paying, twilio


async def _delayed_with_phone(paying: PayingBot, phone: str, chat: int) -> Any:
    ada = paying.telegram.traveller(chat, first_name="Ada")
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    booking = await paying.paid_booking(ada, ["Zoë Łukasiewicz"])
    await ada.send(f"/contact {booking.reference} phone {phone}")
    await ada.wait_for("phone now")
    flight = await Flight.get(booking.segments[0].flight.flight_id)
    assert flight is not None
    await admin.send(f"/delay {flight.flight_number} {flight.departure_date} 50 de-icing → queue")
    await admin.press("Yes, send", await admin.wait_for("Send it?"))
    await admin.wait_for("Sent:")
    return booking


async def test_a_delay_is_texted_once_as_one_gsm_sms(inventory_db: Database, telegram: Any, tmp_path: Path) -> None:
    async with _texting(inventory_db, telegram, tmp_path) as (paying, twilio):
        booking = await _delayed_with_phone(paying, PHONE, 4101)
        await drain_outbox(paying.services)
        rows = [(r.channel, r.status, r.last_error) for r in await Notification.find({}).to_list()]
        fresh = await Booking.get(booking.id)
        assert twilio.to(PHONE), (rows, paying.services.notifications.sms, fresh.passengers[0].phone if fresh else None)
        [sms] = twilio.to(PHONE)
        assert sms.sender == "+15005550006" and segments(sms.body) == 1 and len(sms.body) <= 160
        assert all(char in GSM for char in sms.body)
        assert booking.reference in sms.body and "delayed" in sms.body and "London time" in sms.body
        await drain_outbox(paying.services)
        assert len(twilio.to(PHONE)) == 1  # once


async def test_stop_and_invalid_numbers_are_not_retried_and_outages_are(inventory_db: Database, telegram: Any,
                                                                        tmp_path: Path) -> None:
    async with _texting(inventory_db, telegram, tmp_path) as (paying, twilio):
        twilio.opted_out.add(PHONE)  # the traveller replied STOP
        await _delayed_with_phone(paying, PHONE, 4102)
        await drain_outbox(paying.services)
        [row] = await Notification.find({"channel": "sms"}).to_list()
        assert (row.status, row.attempts) == ("failed", 0) and "21610" in row.last_error
        admin = paying.telegram.traveller(ADMIN_ID)
        assert not any("Could not deliver sms" in m.plain_text() for m in admin.messages())  # STOP is no fault

        twilio.fail_next(503, times=10)  # Twilio has a bad minute (both bookings are on the flight delayed again)
        other = "+442079460959"
        await _delayed_with_phone(paying, other, 4103)
        await drain_outbox(paying.services)
        assert twilio.to(other) == []
        retried = await Notification.find({"channel": "sms", "status": "pending"}).to_list()
        assert [r.payload["to"] for r in retried] == [other] and retried[0].attempts == 1
        stopped = await Notification.find({"channel": "sms", "payload.to": PHONE}).to_list()
        assert [r.status for r in stopped] == ["failed", "failed"]  # STOP is remembered: that number is not texted
        twilio._faults.clear()
        paying.bot.clock.advance(timedelta(minutes=1))
        await drain_outbox(paying.services)
        assert len(twilio.to(other)) == 1 and twilio.to(PHONE) == []


def test_sms_text_is_one_gsm_message() -> None:
    assert sms_text("Łódź → Zoë — “ok” 🙂") == 'Lodz - Zoe - "ok" ?'
    long = sms_text("x" * 500)
    assert len(long) == 160 and long.endswith("...")
    assert all(char in GSM for char in sms_text("ß € 漢字 ñ"))


def test_a_half_configured_twilio_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing: TWILIO_AUTH_TOKEN"):
        Settings(TWILIO_ACCOUNT_SID=SID, TWILIO_FROM="+15005550006", DATA_DIR=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="AC followed by 32 hex"):
        Settings(TWILIO_ACCOUNT_SID="AC123", TWILIO_AUTH_TOKEN="x", TWILIO_FROM="+15005550006",  # type: ignore[call-arg]
                 DATA_DIR=tmp_path)
    with pytest.raises(ValueError, match=r"E\.164"):
        Settings(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="x", TWILIO_FROM="07700 900123",  # type: ignore[call-arg]
                 DATA_DIR=tmp_path)
    assert not Settings(DATA_DIR=tmp_path).sms_configured  # type: ignore[call-arg]
