"""Admin /find and /flagged (one line per booking, reasons in words) and /booking's history in words."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId

from models import Booking, BookingStatus
from models.booking import BookingFlag, Passenger, PriceSnapshot, Segment
from models.flight import Flight
from models.ops import AuditEntry
from services.bookings import snapshot
from tests.flows import confirm_cancel, travel_day
from tests.paying import ADMIN_ID, PayingBot


async def _stored(paying: PayingBot, reference: str, name: str, email: str, *, age_minutes: int = 0,
                  status: BookingStatus = BookingStatus.PENDING, flag: BookingFlag | None = None) -> Booking:
    """A PENDING or CANCELLED booking written straight to the database (no seats: the invariants check only
    CONFIRMED bookings' seats)."""
    clock = paying.bot.clock
    flight = await Flight.find_one(Flight.origin == "LHR", Flight.destination == "JFK",
                                   Flight.departure_date == travel_day(clock, 10).isoformat())
    assert flight is not None
    booking = Booking(
        id=PydanticObjectId(), reference=reference, user_id=9000, chat_id=9000, status=status, flag=flag,
        segments=[Segment(flight=snapshot(flight, "economy"), seats=["30A"], fare_per_passenger=77800)],
        passengers=[Passenger(full_name=name, birth_date=datetime(1985, 12, 10).date())], email=email,
        price=PriceSnapshot(currency="GBP", fare_per_passenger=77800, passengers=1, total=77800),
        created_at=clock.now() - timedelta(minutes=age_minutes), updated_ms=clock.now_ms(),
        hold_expires_ms=clock.now_ms() + 600_000, departs_ms=int(flight.departs_at.timestamp() * 1000))
    await booking.insert()
    return booking


def _lines(message: Any) -> list[str]:
    return [line for line in message.plain_text().split("\n") if " · " in line]


async def test_find_by_name_email_or_reference_case_insensitive_at_most_ten(paying: PayingBot) -> None:
    admin = paying.telegram.traveller(ADMIN_ID)
    for n in range(12):
        await _stored(paying, f"GRC{n:03d}", "Grace Hopper", f"grace{n}@navy.example", age_minutes=n)
    await _stored(paying, "ADA777", "Ada Lovelace", "Ada@Example.com")
    await admin.send("/find hopper")
    found = await admin.wait_for("booking(s) for")
    lines = _lines(found)
    assert len(lines) == 10 and "newest 10" in found.plain_text()
    assert lines[0].startswith("GRC000 · PENDING · LHR → JFK") and "Grace Hopper" in lines[0] and "£778.00" in lines[0]
    await admin.send("/find ADA@example.COM")
    assert [line.split(" · ")[0] for line in _lines(await admin.wait_for("booking(s) for"))] == ["ADA777"]
    await admin.send("/find ada777")
    assert [line.split(" · ")[0] for line in _lines(await admin.wait_for("booking(s) for"))] == ["ADA777"]
    await admin.send("/find .*")  # typed text is not a regular expression
    await admin.wait_for("No booking matches")
    await admin.send("/find")
    await admin.wait_for("Usage: /find")


async def test_flagged_lists_every_flag_with_its_reason_in_words(paying: PayingBot) -> None:
    admin = paying.telegram.traveller(ADMIN_ID)
    await admin.send("/flagged")
    await admin.wait_for("No booking is flagged")
    await _stored(paying, "NOFLAG", "Ada Lovelace", "ada@example.com")
    for n, flag in enumerate(BookingFlag):
        await _stored(paying, f"FLAG{n:02d}", "Ada Lovelace", "ada@example.com", age_minutes=n,
                      status=BookingStatus.CANCELLED, flag=flag)
    await admin.send("/flagged")
    text = (await admin.wait_for("Flagged bookings")).plain_text()
    assert "NOFLAG" not in text and len(_lines(await _last(admin))) == len(BookingFlag)
    for words in ("amount paid differs", "refund failed", "oversold", "disputed", "partially refunded"):
        assert words in text, words
    assert "amount_mismatch" not in text and "refund_failed" not in text


async def _last(t: Any) -> Any:
    return t.last_message()


async def test_booking_history_reads_in_words(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(8801)
    admin = paying.telegram.traveller(ADMIN_ID)
    booking, session_id = await paying.booked_with_link(ada)
    await admin.send(f"/resend {booking.reference}")
    await admin.wait_for("Sent the open link")
    await paying.post_event(paying.completed_event(session_id))
    await ada.wait_for("is confirmed")
    await admin.send(f"/cancel {booking.reference} schedule change")
    await confirm_cancel(admin)
    await admin.wait_for("is cancelled")
    await admin.send(f"/booking {booking.reference}")
    history = (await admin.wait_for("History")).plain_text()
    total = f"£{booking.price.total / 100:,.2f}"
    assert "Payment link sent (attempt 1)" in history and "Payment link sent again (attempt 1)" in history
    assert f"Refunded {total}" in history and "Paid (" in history
    assert f"{booking.price.total} GBP" not in history and "payment_link attempt" not in history


async def test_find_and_flagged_are_refused_and_audited_for_travellers(paying: PayingBot) -> None:
    mallory = paying.telegram.traveller(8802, first_name="Mallory")
    await _stored(paying, "ADA778", "Ada Lovelace", "ada@example.com")
    for command in ("/find ada", "/flagged"):
        await mallory.send(command)
        refused = (await mallory.wait_for("for FlyO staff only")).plain_text()
        assert "ADA778" not in refused
    entries = await AuditEntry.find(AuditEntry.actor_id == mallory.user_id).to_list()
    assert sorted(e.action for e in entries) == ["find", "flagged"] and all(e.outcome == "refused" for e in entries)
