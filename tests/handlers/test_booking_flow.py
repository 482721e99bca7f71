"""The booking conversation through the real Application on the fake Bot API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models import Booking, BookingStatus, SeatHold
from tests.flows import book_to_review, fill_passenger, free_seats, travel_day


async def test_guided_booking_for_two_passengers(bot: Any) -> None:
    ada = bot.telegram.traveller(2001, first_name="Ada")
    day = travel_day(bot.clock, 12)
    await ada.send("/search")
    await ada.wait_for("Where are you flying from")
    await ada.send("londn")  # typo, and a city with several airports
    choice = await ada.wait_for("London has")
    assert any("LHR" in label for label in choice.button_labels())
    await ada.press("LHR")
    await ada.wait_for("Where to?")
    await ada.send("new york")
    await ada.wait_for("New York has")
    await ada.press("JFK")
    calendar = await ada.wait_for("When?")
    assert "·" in calendar.button_labels()  # past days are not tappable
    await ada.send(day.isoformat())
    await ada.wait_for("One way or return?")
    await ada.press("One way")
    await ada.wait_for("How many passengers")
    await ada.press("2")
    results = await ada.wait_for("tap a fare")
    text = results.plain_text()
    assert "London LHR → New York JFK" in text
    assert "source" not in text  # only FlyO's inventory is configured: where fares come from goes unsaid
    assert "2 passengers" in text and "Prices are totals for all 2 passengers" in text
    await ada.press("1. Economy")
    seat_map = await ada.wait_for("Tap a seat for passenger 1 of 2")
    free = free_seats(seat_map)
    await ada.press(free[0])
    await ada.wait_for("Tap a seat for passenger 2 of 2")
    await ada.press(free[1])
    picked = await ada.wait_for("All seats picked")
    assert f"✅{free[0]}" in picked.button_labels() and f"✅{free[1]}" in picked.button_labels()
    await ada.press("Continue")
    await ada.wait_for("Passenger 1 of 2")
    await fill_passenger(ada, 0, "ada lovelace", "1985-12-10", "Ada.Lovelace@Example.com")
    await ada.wait_for("Passenger 2 of 2")
    await fill_passenger(ada, 1, "Charles Babbage", "26.12.1991")
    review = await ada.wait_for("Please review your booking")
    summary = review.plain_text()
    assert "Ada Lovelace" in summary and "Charles Babbage" in summary
    assert free[0] in summary and free[1] in summary
    await ada.press("Confirm and pay")
    done = await ada.wait_for("Booking")
    booking = await Booking.find_one(Booking.user_id == 2001)
    assert booking is not None and booking.status == BookingStatus.PENDING
    assert booking.reference in done.plain_text()
    assert sorted(booking.segments[0].seats) == sorted(free[:2])
    assert [p.full_name for p in booking.passengers] == ["Ada Lovelace", "Charles Babbage"]
    assert booking.email == "Ada.Lovelace@example.com"
    assert booking.price.total == booking.price.fare_per_passenger * 2
    assert booking.first_flight.origin == "LHR" and booking.first_flight.destination == "JFK"
    holds = await SeatHold.find(SeatHold.booking_id == str(booking.id)).to_list()
    assert sorted(h.seat for h in holds) == sorted(free[:2])
    grace_ms = bot.settings.HOLD_GRACE_MINUTES * 60_000  # the seats outlive the payment window (late webhooks)
    assert all(h.expires_ms == booking.hold_expires_ms + grace_ms for h in holds)


async def test_one_line_search_books_one_passenger(bot: Any) -> None:
    grace = bot.telegram.traveller(2002, first_name="Grace")
    review = await book_to_review(grace, bot.clock, pax=1)
    assert "× 1" in review.plain_text()
    await grace.press("Confirm and pay")
    await grace.wait_for("Booking")
    booking = await Booking.find_one(Booking.user_id == 2002)
    assert booking is not None and len(booking.segments[0].seats) == 1 and booking.status == BookingStatus.PENDING


async def test_one_line_without_command(bot: Any) -> None:
    alan = bot.telegram.traveller(2003)
    day = travel_day(bot.clock, 5) + timedelta(days=0)
    await alan.send(f"LHR JFK {day:%d %b}")
    results = await alan.wait_for("tap a fare")
    assert "1 passenger" in results.plain_text()
