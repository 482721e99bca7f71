"""Infants on a lap (issue #15 item 9), as the traveller reads them: a baby's birth date brings the question "on a
lap or in a seat?", the lap frees the baby's seat and costs INFANT_FARE_PERCENT of the fare, and the review, the
Stripe line items and the e-mail say so. One infant per adult (16+); a baby too old for the return, or on an
airline's fare, is not offered the lap."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from models import Booking, SeatHold
from services.seats import chat_holder
from tests.flows import drain_outbox, fill_passenger, to_passengers, travel_day
from tests.paying import PayingBot


def _born(clock: Any, years: float) -> str:
    return (travel_day(clock) - timedelta(days=int(years * 365.25))).isoformat()


async def _held(chat: int) -> list[str]:
    return sorted(h.seat for h in await SeatHold.find(SeatHold.holder == chat_holder(chat)).to_list())


async def _baby_as_passenger_2(t: Any, bot: Any, *, pax: int = 2, years: float = 0.8) -> Any:
    await to_passengers(t, bot.clock, pax=pax)
    await fill_passenger(t, 0, "Ada Lovelace", "1985-03-01")
    await t.wait_for("Passenger 2 of")
    await t.send("Ella Lovelace")
    await t.wait_for("Date of birth of Ella Lovelace")
    await t.send(_born(bot.clock, years))
    return await t.wait_for("is under 2")


async def test_a_baby_on_a_lap_frees_a_seat_and_pays_the_infant_fare(paying: PayingBot) -> None:
    t = paying.telegram.traveller(18601)
    question = await _baby_as_passenger_2(t, paying.bot)
    text = question.plain_text()
    assert "Ella Lovelace is under 2 for the whole trip" in text and "at 10% of the fare" in text
    labels = question.button_labels()
    assert any(label.startswith("👶 On a lap · ") for label in labels)
    assert any(label.startswith("💺 Own seat · ") for label in labels)
    assert len(await _held(18601)) == 2
    await t.press("On a lap")
    await t.wait_for("Passport or ID number of Ella Lovelace")
    assert len(await _held(18601)) == 1  # the baby's seat went back on sale
    await t.press("Skip")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert "2. Ella Lovelace, born" in review and "👶 infant on a lap, no seat" in review
    assert "× 1 + infant on a lap" in review and "× 1 =" in review
    await t.press("Confirm and pay")
    await t.wait_for("Pay")
    booking = await Booking.find_one(Booking.user_id == 18601)
    assert booking is not None
    [segment] = booking.segments
    assert len(segment.seats) == 1 and [p.on_lap for p in booking.passengers] == [False, True]
    assert segment.infant_fare == (segment.fare_per_passenger * 10 + 50) // 100
    assert booking.price.total == segment.fare_per_passenger + segment.infant_fare and booking.price.infants == 1
    assert booking.seat_of(segment, 0) == segment.seats[0] and booking.seat_of(segment, 1) is None
    session_id = booking.payment.session_id
    assert session_id is not None
    lines = paying.stripe.line_items[session_id]
    assert sorted(int(li["amount_total"]) for li in lines) == sorted([segment.fare_per_passenger, segment.infant_fare])
    assert any("Ella Lovelace (infant on lap)" in str(li["description"]) for li in lines)
    assert paying.stripe.sessions[session_id]["amount_total"] == booking.price.total
    status, _answer = await paying.post_event(paying.completed_event(session_id))
    assert status == 200
    confirmed = (await t.wait_for("is confirmed")).plain_text()
    assert "for Ada Lovelace, Ella Lovelace (infant on a lap)." in confirmed
    await drain_outbox(paying.services)
    [mail] = [m for m in paying.sendgrid.messages_to("ada@example.com") if "confirmed" in (m.subject or "")]
    assert mail.text is not None and "infant on a lap, no seat" in mail.text and "infant on a lap, " in mail.text


async def test_own_seat_keeps_the_seat_at_the_full_fare(bot: Any) -> None:
    t = bot.telegram.traveller(18602)
    await _baby_as_passenger_2(t, bot)
    await t.press("Own seat")
    await t.wait_for("Passport or ID number of Ella Lovelace")
    await t.press("Skip")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert "infant on a lap" not in review and "× 2 =" in review
    assert len(await _held(18602)) == 2


async def test_one_lap_per_adult_a_second_baby_gets_a_seat(bot: Any) -> None:
    t = bot.telegram.traveller(18603)
    await _baby_as_passenger_2(t, bot, pax=3)
    await t.press("On a lap")
    await t.wait_for("Passport or ID number of Ella Lovelace")
    await t.press("Skip")
    await t.wait_for("Passenger 3 of 3")
    await t.send("Finn Lovelace")
    await t.wait_for("Date of birth of Finn Lovelace")
    await t.send(_born(bot.clock, 1.2))
    told = (await t.wait_for("Finn Lovelace is under 2")).plain_text()
    assert "Every adult already has an infant on the lap, so Finn Lovelace gets a seat of their own" in told
    await t.wait_for("Passport or ID number of Finn Lovelace")
    assert len(await _held(18603)) == 2


async def test_a_lap_chosen_before_the_others_are_dated_is_undone_when_no_adult_remains(bot: Any) -> None:
    """Baby first, then a 10-year-old: nobody 16+ can hold the baby, who then needs a seat (picked on the map)."""
    t = bot.telegram.traveller(18604)
    await to_passengers(t, bot.clock, pax=2)
    await t.send("Ella Lovelace")
    await t.wait_for("Date of birth of Ella Lovelace")
    await t.send(_born(bot.clock, 0.5))
    await t.wait_for("is under 2")
    await t.press("On a lap")
    await t.wait_for("E-mail address")
    await t.send("ella@example.com")
    await t.wait_for("Phone number")
    await t.send("Skip")
    await t.wait_for("Passport or ID")
    await t.press("Skip")
    await t.wait_for("Passenger 2 of 2")
    await t.send("Tom Lovelace")
    await t.wait_for("Date of birth of Tom Lovelace")
    await t.send(_born(bot.clock, 10))
    await t.wait_for("Passport or ID number of Tom Lovelace")
    await t.press("Skip")
    said = await t.wait_for("needs a seat of their own")
    assert said.plain_text() == ("Ella Lovelace needs a seat of their own: each adult (16 or over) can hold one "
                                 "infant on the lap.")
    seat_map = await t.wait_for("Tap a seat for passenger 1 of 2")  # Ella is passenger 1
    await t.press("Pick for me", seat_map)
    await t.wait_for("All seats picked")
    await t.press("Continue")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert "infant on a lap" not in review and "× 2 =" in review
    assert len(await _held(18604)) == 2


async def test_a_birth_date_corrected_from_the_review_takes_the_passenger_off_the_lap(bot: Any) -> None:
    t = bot.telegram.traveller(18605)
    await _baby_as_passenger_2(t, bot)
    await t.press("On a lap")
    await t.wait_for("Passport or ID number of Ella Lovelace")
    await t.press("Skip")
    await t.wait_for("Please review your booking")
    await t.press("Edit passenger 2")
    await t.wait_for("which detail should change")
    await t.press("Date of birth")
    await t.wait_for("Date of birth of Ella Lovelace")
    await t.send("1999-05-05")  # a typo fixed: Ella is an adult
    await t.wait_for("Tap a seat for passenger 2 of 2")
    await t.press("Pick for me")
    await t.wait_for("All seats picked")
    await t.press("Continue")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert "infant on a lap" not in review and "born 1999-05-05" in review


async def test_a_baby_who_turns_2_before_the_return_is_not_offered_the_lap(bot: Any) -> None:
    t = bot.telegram.traveller(18606)
    day = travel_day(bot.clock)
    back = day + timedelta(days=7)
    await t.send(f"/search LHR JFK {day.isoformat()} {back.isoformat()} 2")
    await t.wait_for("tap a fare")
    await t.press("Economy")
    await t.wait_for("tap a fare")
    await t.press("Economy")
    for number in (1, 2):
        await t.wait_for(f"Flight {number} of 2")
        await t.press("Pick for me")
        await t.wait_for("All seats picked")
        await t.press("Continue")
    await t.wait_for("Passenger 1 of 2")
    await fill_passenger(t, 0, "Ada Lovelace", "1985-03-01")
    await t.wait_for("Passenger 2 of 2")
    await t.send("Ella Lovelace")
    await t.wait_for("Date of birth of Ella Lovelace")
    second_birthday = day + timedelta(days=3)  # under 2 on the way out, 2 on the way back
    await t.send(date(second_birthday.year - 2, second_birthday.month, second_birthday.day).isoformat())
    await t.wait_for("Passport or ID number of Ella Lovelace")
    assert not any("is under 2" in m.plain_text() for m in t.messages())


async def test_the_lap_buttons_pressed_25_times_or_forged_change_nothing_more(bot: Any) -> None:
    t = bot.telegram.traveller(18607)
    question = await _baby_as_passenger_2(t, bot)
    lap = question.find_button("On a lap").callback_data
    assert lap is not None
    for _ in range(25):
        await t.press_data(lap, question.message_id)
    await bot.telegram.wait_until_callbacks_answered()
    await t.wait_for("Passport or ID number of Ella Lovelace")
    assert len(await _held(18607)) == 1
    await t.press_data(lap[:-1] + "7", question.message_id)  # forged: neither lap nor seat
    await bot.telegram.wait_until_callbacks_answered()
    await t.press("Skip")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert review.count("infant on a lap, no seat") == 1


async def test_typed_text_on_the_lap_question_asks_for_a_button(bot: Any) -> None:
    t = bot.telegram.traveller(18608)
    await _baby_as_passenger_2(t, bot)
    await t.send("x" * 4096)
    await t.wait_for("Please tap On a lap or Own seat.")
    await t.wait_for("is under 2")  # asked again, with its buttons
