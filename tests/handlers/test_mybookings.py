"""/mybookings you can act on: a card per booking with its status in words, Pay / Details / Cancel, pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId

from models import Booking, BookingStatus
from models.booking import Passenger, PaymentState, PaymentStatus, PriceSnapshot, Segment
from models.flight import Flight
from services.bookings import snapshot
from tests.flows import travel_day
from tests.paying import PayingBot


async def _stored_booking(running: Any, user_id: int, reference: str, *, days_ahead: int = 10,
                          status: BookingStatus = BookingStatus.CONFIRMED, age_minutes: int = 0,
                          payment: PaymentState | None = None, updated_ms: int | None = None) -> Booking:
    """A booking written straight to the database (many of them, quickly), on an inventory flight. (Its seat is
    not held: use it with the `bot` fixture, or not CONFIRMED with `paying`, whose invariants check seats.)"""
    clock = running.clock
    flight = await Flight.find_one(Flight.origin == "LHR", Flight.destination == "JFK",
                                   Flight.departure_date == travel_day(clock, days_ahead).isoformat())
    assert flight is not None
    booking = Booking(
        id=PydanticObjectId(), reference=reference, user_id=user_id, chat_id=user_id, status=status,
        segments=[Segment(flight=snapshot(flight, "economy"), seats=["30A"], fare_per_passenger=77800)],
        passengers=[Passenger(full_name="Ada Lovelace", birth_date=datetime(1985, 12, 10).date(),
                              phone="+442079460958")],
        email="ada@example.com", price=PriceSnapshot(currency="GBP", fare_per_passenger=77800, passengers=1,
                                                     total=77800),
        created_at=clock.now() - timedelta(minutes=age_minutes), updated_ms=updated_ms or clock.now_ms(),
        hold_expires_ms=clock.now_ms() + 600_000, payment=payment or PaymentState(),
        departs_ms=int(flight.departs_at.timestamp() * 1000))
    await booking.insert()
    return booking


def _cards(t: Any) -> list[Any]:
    return [m for m in t.messages() if m.plain_text().startswith("🎫 ") and "·" in m.plain_text().split("\n")[0]
            and len(m.plain_text().split("\n")) > 2]


async def test_each_booking_is_a_card_with_its_status_in_words_and_the_pay_button_pays(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(8601)
    booking, _session = await paying.booked_with_link(ada)
    await _stored_booking(paying.bot, ada.user_id, "OLDCNL", status=BookingStatus.CANCELLED, age_minutes=60,
                          payment=PaymentState(status=PaymentStatus.REFUNDED, amount_paid=77800, refund_id="re_1"),
                          updated_ms=int(datetime(2026, 12, 3, 10, tzinfo=UTC).timestamp() * 1000))
    await ada.send("/mybookings")
    await ada.wait_for("Your bookings")
    pending = await ada.wait_for(booking.reference)
    minutes = -(-(booking.payment.expires_ms - paying.bot.clock.now_ms()) // 60_000)
    text = pending.plain_text()
    assert f"Awaiting payment — {minutes} min left" in text
    assert f"{booking.first_flight.flight_number} LHR → JFK" in text and "departs" in text  # local times
    assert pending.button_labels() == ["💳 Pay", "Details", "Cancel"]
    older = await ada.wait_for("OLDCNL")
    assert "Cancelled, refunded £778.00 on Thu 03 Dec 2026" in older.plain_text()
    assert older.button_labels() == ["Details"]  # nothing to pay or cancel
    assert [m.plain_text().split("\n")[0].split(" ")[1] for m in _cards(ada)] == [booking.reference, "OLDCNL"]

    await ada.press("Pay", pending)  # the existing "*:pay:<id>" path
    link = await ada.wait_for("already have")
    assert any(b.url == booking.payment.url for row in link.buttons for b in row)
    await paying.telegram.wait_until_callbacks_answered()


async def test_details_open_in_place_and_cancel_starts_the_cancel_ref_path(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(8602)
    booking, _session = await paying.booked_with_link(ada)
    await ada.send("/mybookings")
    card = await ada.wait_for(booking.reference)
    await ada.press("Details", card)
    details = await ada.wait_for(lambda m: m.edited and "Passengers" in m.plain_text())
    assert details.message_id == card.message_id  # edited in place
    text = details.plain_text()
    assert "1. Ada Lovelace" in text and f"{booking.first_flight.flight_number} {booking.segments[0].seats[0]}" in text
    assert "ada@example.com" in text
    await ada.press("Less", details)
    back = await ada.wait_for(lambda m: m.edited and m.message_id == card.message_id)
    assert "Passengers" not in back.plain_text() and "Details" in back.button_labels()

    await ada.press("Cancel", card)  # as if "/cancel REF" was typed
    answer = await ada.wait_for(lambda m: booking.reference in m.plain_text() and m.message_id != card.message_id)
    if any("Yes, cancel" in label for label in answer.button_labels()):  # the confirmation card of /cancel REF
        await ada.press("Yes, cancel", answer)
        await ada.wait_for("is cancelled")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CANCELLED
    await ada.send("/mybookings")
    again = await ada.wait_for(lambda m: booking.reference in m.plain_text() and "Cancelled" in m.plain_text())
    assert again.button_labels() == ["Details"]
    await paying.telegram.wait_until_callbacks_answered()


async def test_many_bookings_are_paged_by_five_and_25_presses_of_next_show_the_page_once(bot: Any) -> None:
    ada = bot.telegram.traveller(8603)
    refs = [f"PAGE{n:02d}" for n in range(12)]  # PAGE00 is the newest
    for n, ref in enumerate(refs):
        await _stored_booking(bot, ada.user_id, ref, age_minutes=n)
    await ada.send("/mybookings")
    nav = await ada.wait_for("Bookings 1–5 of 12")
    assert nav.button_labels() == ["Next ›"]
    assert [c.plain_text().split("\n")[0].split(" ")[1] for c in _cards(ada)] == refs[:5]
    data = nav.find_button("Next ›").callback_data
    assert data is not None and len(data.encode()) <= 64
    for _press in range(25):
        await ada.press_data(data, nav.message_id)
    await bot.telegram.wait_until_callbacks_answered()
    page2 = await ada.wait_for("Bookings 6–10 of 12")
    assert page2.button_labels() == ["‹ Prev", "Next ›"]
    assert [c.plain_text().split("\n")[0].split(" ")[1] for c in _cards(ada)] == refs[:10]  # page 2 shown once
    old = next(m for m in ada.messages() if m.message_id == nav.message_id)
    assert not old.has_inline_keyboard  # the pressed page lost its buttons
    answers = [q.answer_texts[-1] for q in bot.telegram.callback_queries() if q.data == data]
    assert len(answers) == 25 and sum(1 for a in answers if a and "already shown" in a) == 24
    await ada.press("Next ›", page2)
    last = await ada.wait_for("Bookings 11–12 of 12")
    assert last.button_labels() == ["‹ Prev"]
    await ada.press("‹ Prev", last)
    await ada.wait_for(lambda m: "Bookings 6–10 of 12" in m.plain_text() and m.has_inline_keyboard
                       and m.message_id > last.message_id)


async def test_forged_and_foreign_booking_ids_read_not_found_and_show_nothing(bot: Any) -> None:
    ada = bot.telegram.traveller(8604)
    mallory = bot.telegram.traveller(8605, first_name="Mallory")
    booking = await _stored_booking(bot, ada.user_id, "ADAS01")
    await mallory.send("/mybookings")
    empty = await mallory.wait_for("no bookings yet")
    for data in (f"*:mbd:{booking.id}", f"*:mbc:{booking.id}", f"*:mbs:{booking.id}", "*:mbd:nonsense",
                 "*:mbd:" + "f" * 24, "*:mbp:x.y.z", "*:mbp:999999999.0.77", "*:mbz:"):
        await mallory.press_data(data, empty.message_id)
    await bot.telegram.wait_until_callbacks_answered()
    await mallory.assert_no_message()
    shown = " ".join(str(a) for q in bot.telegram.callback_queries() if q.user_id == mallory.user_id
                     for a in q.answer_texts)
    assert "ADAS01" not in shown and "Ada" not in shown and "not found" in shown
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
