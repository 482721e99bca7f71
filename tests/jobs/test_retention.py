"""PERSONAL_DATA_RETENTION_DAYS (issue #21): the sweep removes the personal details of a booking whose last flight
departed more than that many days ago — once, however many sweeps run, keeping what accounting needs (reference,
amounts, flights, payment and Stripe ids, tickets) — and a retention that makes no sense is refused at start-up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.clock import as_utc
from core.config import ConfigError, load_settings
from models import Booking, BookingEvent, BookingStatus
from models.ops import Notification
from repos.base import collection
from services.erasure import REDACTED_NAME
from tests.flows import drain_outbox
from tests.paying import PayingBot


async def test_a_flown_booking_is_redacted_once_after_the_retention(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(7601)
    booking = await paying.paid_booking(ada, ["Ada Lovelace", "Charles Babbage"])
    await paying.services.bookings.change_contact(booking, phone="+447700900123", actor="user:7601")
    await drain_outbox(paying.services)
    clock, days = paying.bot.clock, paying.bot.settings.PERSONAL_DATA_RETENTION_DAYS
    assert days == 90
    departed = as_utc(booking.segments[-1].flight.departs_at)
    clock.advance(departed - clock.now() + timedelta(days=days) - timedelta(hours=1))
    assert (await paying.services.sweeper.run()).personal_data_redacted == 0  # an hour short of the retention
    clock.advance(timedelta(hours=2))
    reports = await asyncio.gather(*(paying.services.sweeper.run() for _ in range(2)))  # two replicas at once
    assert sorted(r.personal_data_redacted for r in reports) == [0, 1]

    kept = await Booking.get(booking.id)
    assert kept is not None and kept.redacted_ms is not None and kept.redacted_ms <= clock.now_ms()
    assert [p.full_name for p in kept.passengers] == [REDACTED_NAME] * 2 and kept.email == ""
    assert all(p.birth_date is None and p.phone is None and p.document_number is None for p in kept.passengers)
    assert kept.status == BookingStatus.CONFIRMED and kept.reference == booking.reference
    assert kept.price == booking.price and kept.segments == booking.segments and kept.tickets == booking.tickets
    assert kept.payment.session_id == booking.payment.session_id  # Stripe's references stay
    assert kept.payment.payment_intent_id == booking.payment.payment_intent_id
    assert kept.payment.amount_paid == booking.payment.amount_paid
    [contact] = await BookingEvent.find(BookingEvent.booking_id == str(booking.id), BookingEvent.kind == "contact") \
        .to_list()
    assert "+447700900123" not in contact.detail
    mails = await Notification.find(Notification.booking_reference == booking.reference).to_list()
    assert mails and not any("ada@example.com" in repr(n.payload) or "Lovelace" in repr(n.payload) for n in mails)
    assert {n.key for n in mails} >= {f"confirm-email:{booking.id}"}  # keys stay: nothing is sent again

    before = await collection(Booking).find_one({"_id": booking.id})
    assert (await paying.services.sweeper.run()).personal_data_redacted == 0
    assert await collection(Booking).find_one({"_id": booking.id}) == before
    await ada.send("/mybookings")
    await ada.wait_for(booking.reference)  # still listed, for the traveller's own records
    await ada.send(f"/ticket {booking.reference}")
    await ada.wait_for("personal details were removed")


@pytest.mark.parametrize("days", ["0", "-1", "100000", "ninety"])
def test_a_retention_that_makes_no_sense_is_refused(days: str) -> None:
    with pytest.raises(ConfigError, match="Invalid setting PERSONAL_DATA_RETENTION_DAYS"):
        load_settings(PERSONAL_DATA_RETENTION_DAYS=days)
    assert load_settings(PERSONAL_DATA_RETENTION_DAYS="30").PERSONAL_DATA_RETENTION_DAYS == 30
