"""A paid event in five writes (issue #16) without losing what the longer path guaranteed.

The inbox worker confirms with one conditional update that also marks the booking fulfilled (the inbox owns
finishing it), books the seats in one bulk write and queues both messages in one insert. These tests hold the
guarantees that path relies on: a booking changed since it was read is confirmed from a fresh read, an event
given up (dead) hands its booking back to the sweep, the history and the admin's attempt list still say "paid"
once, a replayed outbox write queues nothing twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.errors import AutoReconnect

from models import Booking, BookingEvent, BookingStatus
from models.ops import Notification
from services.inbox import BACKOFF_SECONDS
from tests.flows import book_to_review, eventually
from tests.invariants import assert_seat_and_money_invariants
from tests.paying import PayingBot


async def test_a_booking_changed_since_the_worker_read_it_is_confirmed_from_a_fresh_read(paying: PayingBot) -> None:
    """The contact e-mail changes between the worker's read and its confirm: the confirmation goes to the new one."""
    ada = paying.telegram.traveller(18960)
    booking, session_id = await paying.booked_with_link(ada)
    events = paying.services.payment_events

    async def change_email(step: str) -> None:
        if step == "booking":
            current = await paying.services.bookings.get(str(booking.id))
            await paying.services.bookings.change_contact(current, email="ada.new@example.com", actor="test")

    events.before_step = change_email
    status, body = await paying.post_event(paying.completed_event(session_id))
    assert (status, body["outcome"]) == (200, "confirmed")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED and stored.email == "ada.new@example.com"
    await ada.wait_for("is confirmed")

    async def mailed() -> bool:
        await paying.deliver()
        return len(paying.sendgrid.messages_to("ada.new@example.com")) == 1
    assert await eventually(mailed)
    assert paying.sendgrid.messages_to("ada@example.com") == []
    history = [e.kind for e in await paying.services.bookings.history(stored)]
    assert history.count("confirmed") == 1 and history.index("confirmed") > history.index("contact")


async def test_a_paid_event_given_up_hands_its_booking_to_the_sweep(paying: PayingBot) -> None:
    """Every attempt dies after the confirm (before the outbox write): the event is set aside as dead, and the
    sweep still sends the traveller their confirmation — once."""
    ada = paying.telegram.traveller(18961)
    booking, session_id = await paying.booked_with_link(ada)
    events = paying.services.payment_events
    deaths: list[str] = []

    async def outbox_down(step: str) -> None:
        if step == "outbox":
            deaths.append(step)
            raise AutoReconnect("injected: the outbox write fails")

    events.before_step = outbox_down
    await paying.post_event(paying.completed_event(session_id))
    for delay in BACKOFF_SECONDS:
        paying.bot.clock.advance(timedelta(seconds=delay))
        await paying.process_inbox()
    assert len(deaths) == len(BACKOFF_SECONDS) + 1
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    assert stored.fulfilled_ms is None  # handed back: the sweep finishes it
    assert await Notification.find(Notification.key == f"confirm-chat:{booking.id}").count() == 0
    events.before_step = _healthy
    paying.bot.clock.advance(timedelta(minutes=2))
    assert await events.finish_confirmations() == 1
    await ada.wait_for("is confirmed")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.fulfilled_ms is not None
    assert await events.finish_confirmations() == 0  # finished: not again
    await paying.deliver()
    assert sum("is confirmed" in m.plain_text() for m in ada.messages()) == 1
    await assert_seat_and_money_invariants()


async def _healthy(step: str) -> None:
    return None


async def test_the_admin_sees_the_paid_attempt_as_paid_and_the_history_says_confirmed_once(
        paying: PayingBot) -> None:
    ada = paying.telegram.traveller(18962)
    booking, session_id = await paying.booked_with_link(ada)
    await paying.post_event(paying.completed_event(session_id))
    await ada.wait_for("is confirmed")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.confirmed_ms is not None
    attempts = await paying.services.payments.summary(stored)
    assert [(a["session"], a["status"]) for a in attempts] == [(session_id, "paid")]
    confirmed = [e for e in await paying.services.bookings.history(stored) if e.kind == "confirmed"]
    assert [e.detail for e in confirmed] == [f"paid via {session_id}"]
    # The same event delivered again under a new id (Stripe's retries keep the id; a resend from the dashboard
    # doesn't): nothing new is queued and the booking stays confirmed once.
    again = paying.completed_event(session_id)
    status, body = await paying.post_event(again)
    assert (status, body["outcome"]) == (200, "already_confirmed")
    assert await Notification.find(Notification.key == f"confirm-chat:{booking.id}").count() == 1
    assert await Notification.find(Notification.key == f"confirm-email:{booking.id}").count() == 1


async def test_queueing_rows_of_which_some_exist_queues_only_the_new_ones(paying: PayingBot) -> None:
    notifications = paying.services.notifications
    first = notifications.chat_note("t-one", 18963, "one")
    assert await notifications.enqueue_all([first]) == 1
    rows = [notifications.chat_note("t-one", 18963, "one again"), notifications.email_note(
        "t-two", "ada@example.com", "Subject", "text", "<p>html</p>"), notifications.chat_note("t-three", 18963, "3")]
    assert await notifications.enqueue_all(rows) == 2
    assert await notifications.enqueue_all(rows) == 0
    stored = {n.key: n for n in await Notification.find({"key": {"$regex": "^t-"}}).to_list()}
    assert sorted(stored) == ["t-one", "t-three", "t-two"]
    assert stored["t-one"].payload["text"] == "one"  # the first row stays as it was


async def test_the_history_reads_created_link_and_paid_once_each_old_bookings_included(paying: PayingBot) -> None:
    """Created, each payment link and the payment are read from the booking and its attempt rows (no history
    write of their own); a booking from before, whose history stored them, shows each once all the same."""
    ada = paying.telegram.traveller(18964)
    booking, session_id = await paying.booked_with_link(ada)
    await paying.post_event(paying.completed_event(session_id))
    await ada.wait_for("is confirmed")
    stored = await Booking.get(booking.id)
    assert stored is not None
    history = await paying.services.bookings.history(stored)
    assert [(e.kind, e.detail) for e in history] == [
        ("created", f"1 passenger(s), seats {stored.segments[0].flight.flight_number} {stored.segments[0].seats[0]}"),
        ("payment_link", f"attempt 1: {session_id}"), ("confirmed", f"paid via {session_id}")]
    assert await BookingEvent.find(BookingEvent.booking_id == str(booking.id)).count() == 0  # nothing written
    # The same booking as stored before: the three as events, no confirmed_ms.
    for event in history:
        await BookingEvent(booking_id=event.booking_id, reference=event.reference, at=event.at, kind=event.kind,
                           detail=event.detail).insert()
    legacy = stored.model_copy(update={"confirmed_ms": None})
    assert [(e.kind, e.detail) for e in await paying.services.bookings.history(legacy)] == [
        (e.kind, e.detail) for e in history]


async def test_confirm_pressed_again_after_a_lost_save_finds_the_booking_it_made(paying: PayingBot) -> None:
    """The booking is made but the chat's save fails (the database blinks): the traveller presses Confirm and
    pay again and gets the same booking's link — no second booking, no "seat taken" for their own seats."""
    ada = paying.telegram.traveller(18965)
    await book_to_review(ada, paying.bot.clock)
    store = paying.services.conversations
    real_save = store.save
    failures: list[int] = []

    async def save_once_failing(conversation: Any) -> None:
        if not failures:
            failures.append(1)
            raise AutoReconnect("injected: the chat's save fails after the booking was made")
        await real_save(conversation)

    store.save = save_once_failing
    try:
        await ada.press("Confirm and pay")
        await paying.telegram.wait_until_callbacks_answered()
        assert any("temporarily unavailable" in str(answer) for answer in ada.callback_answers)
    finally:
        store.save = real_save
    assert await Booking.find(Booking.user_id == 18965).count() == 1  # made, though the chat did not move on
    await ada.press("Confirm and pay")
    await ada.wait_for("Pay")
    bookings = await Booking.find(Booking.user_id == 18965).to_list()
    assert len(bookings) == 1 and bookings[0].status == BookingStatus.PENDING and bookings[0].payment.url
    assert not [m for m in ada.messages() if "replacement" in m.plain_text()]  # no "choose a replacement"
    await assert_seat_and_money_invariants()
