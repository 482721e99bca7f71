"""/deleteme (issue #21): a card says what goes and what stays; "No" keeps everything; "Yes" — pressed 25 times,
one erase, every press answered — deletes the profile, the saved travellers, the conversation and its held seats,
cancels the unpaid booking (its seats released, its payment link expired), removes the personal details of past
and cancelled bookings at once and keeps a paid trip still ahead until it is over, when the sweep removes them. The
audit log records the erasure without the data. A crash midway is finished by asking again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from core.clock import as_utc, to_ms
from models import AuditEntry, Booking, BookingStatus, Conversation, SavedTraveller, SeatHold, TravellerContact
from models.conversation import Step
from models.ops import Notification, NotificationStatus
from repos.base import collection
from services.erasure import ERASED_REASON, REDACTED_NAME
from services.travellers import TravellerService
from tests.flows import drain_outbox, pick_first_fare, search_one_line, travel_day
from tests.paying import PayingBot

ADA = 7501


async def _into_the_past(booking: Booking, days: int = 40) -> None:
    """The booking's trip as if it had been flown `days` ago (segments written whole, as repos.bookings does)."""
    shift = timedelta(days=days)
    segments = [s.model_copy(update={"flight": s.flight.model_copy(update={
        "departs_at": s.flight.departs_at - shift, "arrives_at": s.flight.arrives_at - shift})})
        for s in booking.segments]
    await collection(Booking).update_one({"_id": booking.id}, {"$set": {
        "segments": [s.model_dump(mode="json") for s in segments],
        "departs_ms": to_ms(as_utc(segments[0].flight.departs_at))}})


async def _ada_with_everything(paying: PayingBot) -> dict[str, Any]:
    """A flown trip (two passengers), a paid trip ahead, an unpaid booking, and a search holding seats."""
    ada = paying.telegram.traveller(ADA, first_name="Ada")
    flown = await paying.paid_booking(ada, ["Ada Lovelace", "Charles Babbage"])
    await _into_the_past(flown)
    ahead = await paying.paid_booking(ada, ["Ada Lovelace"])
    unpaid, session = await paying.booked_with_link(ada, days_ahead=12)
    await search_one_line(ada, "LHR", "JFK", travel_day(paying.bot.clock, 14), 1)
    await pick_first_fare(ada)
    await ada.press("Pick for me")
    await ada.wait_for("All seats picked")
    assert await SeatHold.find(SeatHold.holder == f"chat:{ADA}").count() == 1
    return {"ada": ada, "flown": flown, "ahead": ahead, "unpaid": unpaid, "session": session}


async def test_the_card_says_what_happens_and_no_keeps_everything(paying: PayingBot) -> None:
    world = await _ada_with_everything(paying)
    ada = world["ada"]
    await ada.send("/deleteme")
    card = await ada.wait_for("Delete your data from FlyO?")
    text = card.plain_text()
    assert "saved travellers (2)" in text
    assert f"unpaid booking {world['unpaid'].reference} is cancelled" in text
    assert f"past or cancelled booking {world['flown'].reference}" in text
    assert f"Booking {world['ahead'].reference} is paid and still to fly" in text
    assert "as soon as the trip is over" in text and "can't be undone" in text
    await ada.press("No, keep it", card)
    kept = await ada.wait_for("Nothing was deleted")
    assert kept.message_id == card.message_id and not kept.buttons
    await ada.press_data(card.buttons[0][0].callback_data or "", card.message_id)  # the old card's "Yes" now
    await paying.telegram.wait_until_callbacks_answered()
    assert "already answered" in str(ada.callback_answers[-1].get("text"))
    assert await SavedTraveller.find(SavedTraveller.user_id == ADA).count() == 2
    assert all(b.redacted_ms is None for b in await Booking.find(Booking.user_id == ADA).to_list())
    assert (await Booking.get(world["unpaid"].id)).status == BookingStatus.PENDING  # type: ignore[union-attr]
    assert await SeatHold.find(SeatHold.holder == f"chat:{ADA}").count() == 1


async def test_yes_pressed_25_times_erases_once(paying: PayingBot) -> None:
    world = await _ada_with_everything(paying)
    ada, flown, ahead, unpaid = world["ada"], world["flown"], world["ahead"], world["unpaid"]
    await ada.send("/deleteme")
    card = await ada.wait_for("Delete your data from FlyO?")
    presses = len(ada.callback_answers)
    await asyncio.gather(*(ada.press("Yes, delete my data", card) for _ in range(25)))
    done = await ada.wait_for("Done: FlyO erased your profile")
    await paying.telegram.wait_until_callbacks_answered()
    assert len(ada.callback_answers) - presses == 25
    assert done.message_id == card.message_id
    text = done.plain_text()
    assert "2 saved travellers" in text and "1 held seat was released" in text
    assert f"unpaid booking {unpaid.reference} is cancelled" in text
    assert f"Bookings {unpaid.reference}, {flown.reference} keep only what accounting needs" in text
    assert f"Booking {ahead.reference} is paid and still to fly" in text
    assert sum("Done: FlyO erased" in m.plain_text() for m in ada.messages()) == 1

    # The profile, the saved travellers, the conversation and the seats it held: gone.
    assert await SavedTraveller.find(SavedTraveller.user_id == ADA).count() == 0
    assert await TravellerContact.find_one(TravellerContact.user_id == ADA) is None
    for conversation in await Conversation.find(Conversation.user_id == ADA).to_list():  # a press after made a new one
        assert conversation.draft == {} and conversation.step == Step.IDLE
    assert await SeatHold.find(SeatHold.holder == f"chat:{ADA}").count() == 0
    # The unpaid booking: cancelled through the booking service (seats free, link expired), then redacted.
    cancelled = await Booking.get(unpaid.id)
    assert cancelled is not None and cancelled.status == BookingStatus.CANCELLED
    assert cancelled.cancel_reason == ERASED_REASON and cancelled.seats_released_ms is not None
    assert await SeatHold.find(SeatHold.booking_id == str(unpaid.id)).count() == 0
    assert paying.stripe.sessions[world["session"]]["status"] == "expired"
    # The flown trip: what accounting needs, and nothing personal.
    past = await Booking.get(flown.id)
    assert past is not None and past.redacted_ms is not None and past.status == BookingStatus.CONFIRMED
    assert [p.full_name for p in past.passengers] == [REDACTED_NAME, REDACTED_NAME] and past.email == ""
    assert all(p.birth_date is None and p.email is None and p.phone is None and p.document_number is None
               for p in past.passengers)
    assert (past.reference, past.price, past.payment, past.tickets) == (flown.reference, flown.price, flown.payment,
                                                                        flown.tickets)
    assert [s.seats for s in past.segments] == [s.seats for s in flown.segments]
    sent = await Notification.find(Notification.booking_reference == flown.reference).to_list()
    assert sent and all(n.payload == {"redacted": True} for n in sent if n.status == NotificationStatus.SENT)
    # The trip ahead: kept whole until it is over.
    upcoming = await Booking.get(ahead.id)
    assert upcoming is not None and upcoming.redacted_ms is None and upcoming.erase_requested_ms is not None
    assert upcoming.passengers[0].full_name == "Ada Lovelace" and upcoming.email == "ada@example.com"
    # Audited, without the data.
    [entry] = await AuditEntry.find(AuditEntry.action == "deleteme").to_list()
    assert entry.actor_id == ADA and entry.outcome == "erased" and flown.reference in entry.detail
    assert not any(s in entry.detail for s in ("Ada", "Lovelace", "1970", "ada@example.com"))

    # When the trip is over, the sweep removes the rest — once.
    await drain_outbox(paying.services)
    paying.bot.clock.advance(timedelta(days=12))
    report = await paying.services.sweeper.run()
    assert report.personal_data_redacted == 1
    gone = await Booking.get(ahead.id)
    assert gone is not None and gone.redacted_ms is not None and gone.passengers[0].full_name == REDACTED_NAME
    assert (await paying.services.sweeper.run()).personal_data_redacted == 0


async def test_a_crash_midway_is_finished_by_asking_again(paying: PayingBot, monkeypatch: pytest.MonkeyPatch) -> None:
    world = await _ada_with_everything(paying)
    ada = world["ada"]
    travellers: TravellerService = paying.services.erasure.travellers
    real = travellers.forget_all
    calls = {"n": 0}

    async def crash_once(user_id: int) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the process died here")
        return await real(user_id)

    monkeypatch.setattr(travellers, "forget_all", crash_once)
    await ada.send("/deleteme")
    await ada.press("Yes, delete my data", await ada.wait_for("Delete your data from FlyO?"))
    await ada.wait_for("Something went wrong")
    assert await SavedTraveller.find(SavedTraveller.user_id == ADA).count() == 2  # cut short before them
    await ada.send("/deleteme")
    card = await ada.wait_for("Delete your data from FlyO?")
    assert "unpaid booking" not in card.plain_text()  # cancelled by the first attempt already
    await ada.press("Yes, delete my data", card)
    done = await ada.wait_for("Done: FlyO erased your profile")
    assert f"{world['unpaid'].reference}, {world['flown'].reference}" in done.plain_text() or \
        f"{world['flown'].reference}, {world['unpaid'].reference}" in done.plain_text()
    assert await SavedTraveller.find(SavedTraveller.user_id == ADA).count() == 0
    assert await TravellerContact.find_one(TravellerContact.user_id == ADA) is None
    for ref in (world["flown"].reference, world["unpaid"].reference):
        booking = await Booking.find_one(Booking.reference == ref)
        assert booking is not None and booking.redacted_ms is not None
    assert len(await AuditEntry.find(AuditEntry.action == "deleteme").to_list()) == 1  # the erase that finished
