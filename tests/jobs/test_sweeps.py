"""Scheduled sweeps with the clock moved forward: auto-cancel, hold release, reminders — each once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from models import Booking, BookingStatus, SeatHold
from models.ops import Notification
from repos.base import collection
from tests.flows import drain_outbox, eventually
from tests.paying import PayingBot


async def _run_two_sweeps_at_once(paying: PayingBot) -> None:
    sweeper = paying.services.sweeper
    await asyncio.gather(sweeper.run(), sweeper.run())  # two replicas' schedulers firing together


async def test_unpaid_booking_is_cancelled_once_seats_freed_traveller_told_once(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(9101)
    booking, session_id = await paying.booked_with_link(ada)
    paying.bot.clock.advance(timedelta(minutes=paying.bot.settings.PAYMENT_WINDOW_MINUTES + 2))
    await _run_two_sweeps_at_once(paying)
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    assert stored.cancel_reason == "payment window passed"
    assert await SeatHold.find(SeatHold.booking_id == str(booking.id)).count() == 0
    assert paying.stripe.sessions[session_id]["status"] == "expired"
    told = await ada.wait_for("wasn't paid in time")
    assert any("Search again" in label for label in told.button_labels())
    await drain_outbox(paying.services)  # both sweeps' notifications, if there were two, are out now
    assert sum("wasn't paid in time" in m.plain_text() for m in ada.messages()) == 1
    await ada.press("Search again")
    await ada.wait_for("Where are you flying from")


async def test_lapsed_draft_holds_are_released(paying: PayingBot) -> None:
    from tests.flows import pick_first_fare, pick_seats_for_me, search_one_line, travel_day

    bob = paying.telegram.traveller(9102)
    await search_one_line(bob, "LHR", "JFK", travel_day(paying.bot.clock, 9), 2)
    await pick_first_fare(bob)
    await pick_seats_for_me(bob)
    assert await SeatHold.find(SeatHold.holder == "chat:9102").count() == 2
    paying.bot.clock.advance(timedelta(minutes=paying.bot.settings.HOLD_MINUTES + 1))
    report = await paying.services.sweeper.run()
    assert report.holds_released == 2
    assert await SeatHold.find(SeatHold.holder == "chat:9102").count() == 0


async def test_payment_reminder_once_about_ten_minutes_before_the_deadline(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(9103)
    booking, _ = await paying.booked_with_link(ada)
    clock = paying.bot.clock
    await paying.services.sweeper.run()
    assert await Notification.find({"key": {"$regex": "^pay-reminder"}}).count() == 0  # too early
    minutes_left = (booking.hold_expires_ms - clock.now_ms()) / 60_000
    clock.advance(timedelta(minutes=minutes_left - 9))
    await _run_two_sweeps_at_once(paying)
    reminder = await ada.wait_for("left to pay")
    assert booking.reference in reminder.plain_text()
    assert any(b.url == booking.payment.url for row in reminder.buttons for b in row)
    await _run_two_sweeps_at_once(paying)
    await paying.deliver()
    assert sum("left to pay" in m.plain_text() for m in ada.messages()) == 1


async def test_departure_reminder_once_24h_before_in_origin_local_time(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(9104)
    booking, session_id = await paying.booked_with_link(ada)
    await paying.post_event(paying.completed_event(session_id))
    await ada.wait_for("is confirmed")
    clock = paying.bot.clock
    hours_to_departure = (booking.departs_ms - clock.now_ms()) / 3_600_000
    clock.advance(timedelta(hours=hours_to_departure - 25))
    await paying.services.sweeper.run()
    assert await Notification.find_one(Notification.key == f"departure-reminder:{booking.id}") is None
    clock.advance(timedelta(hours=2))  # now 23 h before departure
    await _run_two_sweeps_at_once(paying)
    reminder = await ada.wait_for("Reminder:")
    london = booking.first_flight.departs_at.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M")
    assert f"{london} London time" in reminder.plain_text()
    await _run_two_sweeps_at_once(paying)
    await paying.deliver()
    assert sum("Reminder:" in m.plain_text() for m in ada.messages()) == 1

    async def reminder_mail() -> list[object]:
        await paying.deliver()
        return [m for m in paying.sendgrid.messages_to("ada@example.com") if (m.subject or "").startswith("Reminder")]

    [mail] = await eventually(reminder_mail)
    for body in (mail.text or "", mail.html or ""):  # type: ignore[attr-defined]
        lead = body[body.index("Your flight departs"):][:60]  # said first, in the designed HTML as in the text
        assert f"{london} London time" in lead


async def test_claims_really_change_the_document(paying: PayingBot) -> None:
    """nx-27017 guard: the `field: None` claim must match a missing field and then stop matching."""
    ada = paying.telegram.traveller(9105)
    booking, _ = await paying.booked_with_link(ada)
    first = await collection(Booking).update_one({"_id": booking.id, "payment_reminder_ms": None},
                                                 {"$set": {"payment_reminder_ms": 1}})
    second = await collection(Booking).update_one({"_id": booking.id, "payment_reminder_ms": None},
                                                  {"$set": {"payment_reminder_ms": 2}})
    assert (first.modified_count, second.modified_count) == (1, 0)
