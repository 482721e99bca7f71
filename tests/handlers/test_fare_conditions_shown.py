"""Fare conditions on the review and in the confirmation e-mail (issue #15 item 11): the traveller reads what a
cancellation would refund before paying, and keeps it in writing."""

from __future__ import annotations

from typing import Any

from models import Booking
from tests.flows import (
    book_to_review,
    continue_from_seats,
    drain_outbox,
    fill_passenger,
    pick_first_fare,
    pick_seats_for_me,
    search_one_line,
    travel_day,
)
from tests.paying import PayingBot


async def test_the_review_and_the_e_mail_state_the_fare_conditions(paying: PayingBot) -> None:
    t = paying.telegram.traveller(18901)
    review = (await book_to_review(t, paying.bot.clock)).plain_text()
    assert "📋 Standard fare: refund minus a 20% fee until 24 h before departure" in review
    await t.press("Confirm and pay")
    await t.wait_for("Pay")
    booking = await Booking.find_one(Booking.user_id == 18901)
    assert booking is not None and booking.payment.session_id is not None
    status, _answer = await paying.post_event(paying.completed_event(booking.payment.session_id))
    assert status == 200
    await drain_outbox(paying.services)
    [mail] = [m for m in paying.sendgrid.messages_to("ada@example.com") if "confirmed" in (m.subject or "")]
    assert mail.text is not None and "Fare conditions" in mail.text
    assert "Standard fare: refund minus a 20% fee until 24 h before departure" in mail.text
    assert mail.html is not None and "Standard fare: refund minus a 20% fee" in mail.html


async def test_a_business_review_says_flex(bot: Any) -> None:
    t = bot.telegram.traveller(18902)
    await search_one_line(t, "LHR", "JFK", travel_day(bot.clock), 1)
    await pick_first_fare(t, cabin="Business")
    await pick_seats_for_me(t)
    await continue_from_seats(t)
    await fill_passenger(t, 0, "Ada Lovelace", "1985-03-01")
    review = (await t.wait_for("Please review your booking")).plain_text()
    assert "📋 Flex fare: full refund until departure" in review and "Standard fare" not in review
