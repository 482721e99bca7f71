"""The e-ticket (issue #17) as the traveller gets it: paid → PDF and calendar file in the chat and attached to the
e-mail; the PDF read back the way a gate scanner and a mail client would (rasterised with pdfium, barcodes decoded
with zxing-cpp, BCBP parsed, text layer read with pypdf), the .ics parsed back with icalendar.

Every expectation is computed here from the booking and the zone database, not by FlyO's own formatting."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from models import Booking
from models.ops import Notification
from services.tickets import bcbp
from services.tickets.numbers import is_ticket_number
from tests.paying import PayingBot
from tests.pdfread import barcodes, pdfium_texts, text_layer

ZONES = {"LHR": "Europe/London", "JFK": "America/New_York"}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _chat_files(traveller: Any) -> dict[str, bytes]:
    return {m.document.filename: m.document.content for m in traveller.messages() if m.document is not None}


def _expected_leg(booking: Booking, passenger: int) -> dict[str, Any]:
    segment = booking.segments[0]
    flight = segment.flight
    local = _utc(flight.departs_at).astimezone(ZoneInfo(ZONES[flight.origin]))
    seated = sum(1 for p in booking.passengers[:passenger] if not p.on_lap)
    return {"pnr": booking.reference, "origin": flight.origin, "destination": flight.destination,
            "carrier": flight.flight_number[:2], "flight_number": int(flight.flight_number[2:]),
            "julian_date": local.timetuple().tm_yday, "compartment": "Y", "seat": segment.seats[seated]}


def _assert_leg(text: str, booking: Booking, passenger: int, name: str) -> None:
    leg = bcbp.decode(text)
    assert len(text) == 60 and text.startswith("M1") and text.endswith("00")
    assert leg.name == name
    assert leg.electronic_ticket
    for key, value in _expected_leg(booking, passenger).items():
        assert getattr(leg, key) == value, key


async def test_two_passengers_get_a_scannable_e_ticket_in_the_chat_and_the_email(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3701, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace", "Charles Babbage"])

    # Ticket numbers: one per passenger, 13 digits, FlyO's prefix, distinct; issued once.
    assert booking.tickets is not None
    numbers = booking.tickets.numbers
    assert len(numbers) == 2 and len(set(numbers)) == 2 and all(is_ticket_number(n) for n in numbers)

    files = _chat_files(ada)
    pdf_name, ics_name = f"FlyO-e-ticket-{booking.reference}.pdf", f"FlyO-{booking.reference}.ics"
    assert set(files) == {pdf_name, ics_name}
    pdf = files[pdf_name]
    assert pdf.startswith(b"%PDF-")
    album = [m for m in ada.messages() if m.document is not None]
    assert booking.reference in album[0].plain_text()  # the caption names the PNR
    assert len({m.raw.get("media_group_id") for m in album}) == 1  # one album: PDF and calendar together

    # Page 1: Ada on FO…; both symbologies carry the same BCBP string, which decodes to the booking.
    codes = barcodes(pdf, 0)
    assert set(codes) == {"PDF417", "QRCode"}, codes
    assert codes["PDF417"] == codes["QRCode"]
    _assert_leg(codes["PDF417"], booking, 0, "LOVELACE/ADA")
    _assert_leg(barcodes(pdf, 1)["PDF417"], booking, 1, "BABBAGE/CHARLES")

    # The text layer: PNR, ticket number, local times with their zone, seat.
    pages = text_layer(pdf)
    assert len(pages) == 2  # one passenger per page, one flight
    flight = booking.segments[0].flight
    departs = _utc(flight.departs_at).astimezone(ZoneInfo("Europe/London"))
    arrives = _utc(flight.arrives_at).astimezone(ZoneInfo("America/New_York"))
    for index, text in enumerate(pages):
        assert booking.reference in text
        assert numbers[index] in text
        assert booking.segments[0].seats[index] in text
        assert f"{departs:%H:%M} {departs.tzname()}" in text and f"{departs:%d %b %Y}" in text
        assert f"{arrives:%H:%M} {arrives.tzname()}" in text
        assert "not a boarding pass" in text
    assert "Ada Lovelace" in pages[0] and "Charles Babbage" in pages[1]

    # The calendar: one event, at the flight's UTC departure, with the PNR and the seats.
    calendar = Calendar.from_ical(files[ics_name])
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == _utc(flight.departs_at)
    assert event.decoded("dtend") == _utc(flight.arrives_at)
    assert booking.reference in str(event.get("description"))
    assert all(seat in str(event.get("description")) for seat in booking.segments[0].seats)

    # The e-mail carries both files, byte for byte what the chat got (the same booking draws the same bytes).
    mails = paying.sendgrid.messages_to("ada@example.com")
    assert len(mails) == 1
    attached = {a["filename"]: a for a in mails[0].attachments}
    assert set(attached) == {pdf_name, ics_name}
    assert attached[pdf_name]["type"] == "application/pdf"
    assert attached[ics_name]["type"] == "text/calendar"
    assert all(a["disposition"] == "attachment" for a in attached.values())
    assert base64.b64decode(attached[pdf_name]["content"]) == pdf
    assert base64.b64decode(attached[ics_name]["content"]) == files[ics_name]


async def test_non_latin_and_25_letter_surnames(paying: PayingBot) -> None:
    wang = paying.telegram.traveller(3702, first_name="Fang")
    surname = "Wolfeschlegelsteinhausenb"  # 25 letters
    assert len(surname) == 25
    booking = await paying.paid_booking(wang, ["王 芳", f"Zoë {surname}"])
    pdf = _chat_files(wang)[f"FlyO-e-ticket-{booking.reference}.pdf"]

    # 王 芳 has no Latin spelling FlyO could know: the barcode names the first passenger PASSENGER/A, as documented
    # in services.tickets.bcbp; the page prints the name as entered.
    _assert_leg(barcodes(pdf, 0)["QRCode"], booking, 0, "PASSENGER/A")
    # A 25-letter surname: cut to 18 letters, "/" and the given name's initial — 20 characters.
    second = barcodes(pdf, 1)
    _assert_leg(second["PDF417"], booking, 1, "WOLFESCHLEGELSTEIN/Z")
    assert second["PDF417"] == second["QRCode"]
    shown = pdfium_texts(pdf)  # pdfium reads the CJK font's text as Chrome does
    assert "王 芳" in shown[0]
    assert f"Zoë {surname}" in shown[1]


async def test_the_same_booking_draws_the_same_files_and_numbers_are_issued_once(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3703, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    tickets = paying.services.tickets
    first = await tickets.files_for(str(booking.id))
    paying.bot.clock.advance(timedelta(days=3))  # no "now" on the page
    again = await tickets.files_for(str(booking.id))
    assert [f.content for f in first[1]] == [f.content for f in again[1]]
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.tickets == booking.tickets  # the same numbers, never re-issued


async def test_confirmation_outbox_rows_and_their_order(paying: PayingBot) -> None:
    """The words first, then the files: the confirmation message is above the e-ticket in the chat."""
    ada = paying.telegram.traveller(3704, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    messages = ada.messages()
    confirmed = next(i for i, m in enumerate(messages) if "is confirmed" in m.plain_text())
    documents = [i for i, m in enumerate(messages) if m.document is not None]
    assert documents and min(documents) > confirmed
    rows = await Notification.find(Notification.booking_reference == booking.reference).to_list()
    assert {r.key.split(":")[0] for r in rows} == {"confirm-chat", "confirm-tickets", "confirm-email"}
    assert {r.status for r in rows} == {"sent"}


async def test_the_album_and_the_email_share_one_drawing(paying: PayingBot, monkeypatch: Any) -> None:
    tickets = paying.services.tickets
    real, calls = tickets._draw, []

    async def counted(booking: Booking) -> Any:
        calls.append(booking.reference)
        return await real(booking)

    monkeypatch.setattr(tickets, "_draw", counted)
    ada = paying.telegram.traveller(3705, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    assert len(_chat_files(ada)) == 2 and len(paying.sendgrid.messages_to("ada@example.com")[0].attachments) == 2
    assert calls == [booking.reference]  # drawn once, sent twice
