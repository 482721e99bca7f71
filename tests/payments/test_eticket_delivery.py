"""/ticket, admin /resend, and the e-ticket when things go wrong: someone else's reference, a cancelled or unpaid
booking, 25 requests in a row, a drawing that fails every time, a booking cancelled before its files went, two
deliveries issuing numbers at once, the .eml outbox."""

from __future__ import annotations

import asyncio
import email
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest

from models import Booking, BookingStatus
from models.ops import Notification
from repos.base import collection
from services.mailer import Attachment, Email, OutboxMailer
from services.notifications import BACKOFF_SECONDS
from tests.flows import drain_outbox, eventually
from tests.paying import ADMIN_ID, PayingBot


def _documents(traveller: Any) -> list[str]:
    return [m.document.filename for m in traveller.messages() if m.document is not None]


async def test_ticket_command_sends_the_files_again_to_the_owner_only(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3801, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    assert len(_documents(ada)) == 2  # the confirmation's album

    await ada.send("/ticket")  # her only upcoming booking: no reference needed
    await ada.wait_for(f"Sending the e-ticket of booking {booking.reference}")
    await drain_outbox(paying.services)
    assert len(_documents(ada)) == 4

    mallory = paying.telegram.traveller(3802, first_name="Mallory")
    await mallory.send(f"/ticket {booking.reference}")
    refused = await mallory.wait_for("There is no booking")
    assert booking.reference in refused.plain_text()
    await mallory.send("/ticket " + "A" * 4096)
    await mallory.wait_for("A booking reference has 6 letters and digits")
    await mallory.send("/ticket")
    await mallory.wait_for("no paid booking still to fly")
    await drain_outbox(paying.services)
    assert _documents(mallory) == []


async def test_ticket_asked_25_times_sends_one_album(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3803, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    before = len(_documents(ada))
    for _ in range(25):
        await ada.send(f"/ticket {booking.reference.lower()}")
    answers = [(await ada.wait_for("e-ticket of booking")).plain_text() for _ in range(25)]
    assert sum("Sending" in a for a in answers) == 1  # answered in any order (updates run concurrently)
    assert sum("already on its way" in a for a in answers) == 24
    await drain_outbox(paying.services)
    assert len(_documents(ada)) == before + 2  # one PDF, one calendar file


async def test_cancelled_and_unpaid_bookings_have_no_ticket_and_say_why(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3804, first_name="Ada")
    pending, _session = await paying.booked_with_link(ada)
    await ada.send(f"/ticket {pending.reference}")
    await ada.wait_for("is not paid yet")

    grace = paying.telegram.traveller(3805, first_name="Grace")
    booking = await paying.paid_booking(grace, ["Grace Hopper"])
    cancelled = await paying.services.payments.cancel(booking, "test", "admin:1", refund=0)
    assert cancelled.booking.status == BookingStatus.CANCELLED
    await grace.send(f"/ticket {booking.reference}")
    await grace.wait_for("was cancelled, so it has no e-ticket")


async def test_a_booking_cancelled_before_its_files_went_gets_none(paying: PayingBot) -> None:
    """Rows queued while the booking was paid (a resend) are delivered after it was cancelled: no files go, the
    album's row ends failed with the reason, the e-mail's words still go, without attachments."""
    ada = paying.telegram.traveller(3806, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    documents = len(_documents(ada))
    notifications = paying.services.notifications
    album = notifications.tickets_note(f"late-tickets:{booking.id}", ada.chat_id, str(booking.id), "caption",
                                       reference=booking.reference)
    mail = notifications.email_note(f"late-email:{booking.id}", "ada@example.com", "Late", "text", "<p>text</p>",
                                    reference=booking.reference, tickets_of=str(booking.id))
    outcome = await paying.services.payments.cancel(booking, "test", "admin:1", refund=0, tell_chat=False)
    assert outcome.booking.status == BookingStatus.CANCELLED
    await notifications.repo.enqueue_all([album, mail])  # as if queued just before the cancellation
    await drain_outbox(paying.services, timeout=30)
    assert len(_documents(ada)) == documents
    row = await Notification.find_one(Notification.key == f"late-tickets:{booking.id}")
    assert row is not None and row.status == "failed" and "cancelled" in row.last_error
    late = [m for m in paying.sendgrid.messages_to("ada@example.com") if m.subject == "Late"]
    assert len(late) == 1 and late[0].attachments == []


async def test_a_drawing_that_keeps_failing_never_holds_up_the_confirmation(paying: PayingBot,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    tickets = paying.services.tickets

    async def broken(booking: Booking) -> list[Attachment]:
        raise RuntimeError("font file unreadable")

    monkeypatch.setattr(tickets, "_draw", broken)
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    ada = paying.telegram.traveller(3807, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    assert any("is confirmed" in m.plain_text() for m in ada.messages())
    mails = paying.sendgrid.messages_to("ada@example.com")
    assert len(mails) == 1 and mails[0].attachments == []  # the confirmation e-mail went without the files
    for _attempt in BACKOFF_SECONDS:  # every retry fails the same way
        paying.bot.clock.advance(timedelta(hours=1))
        await drain_outbox(paying.services, timeout=30)
    rows = {r.key: r for r in await Notification.find(Notification.booking_reference == booking.reference).to_list()}
    assert rows[f"confirm-tickets:{booking.id}"].status == "failed"
    assert rows[f"confirm-email:{booking.id}:files"].status == "failed"  # the files' own e-mail, given up too
    alerts = [m.plain_text() for m in admin.messages() if "Could not deliver" in m.plain_text()]
    assert len(alerts) == 2 and all("font file unreadable" in a for a in alerts)
    assert _documents(ada) == []

    monkeypatch.undo()  # fixed: the traveller asks again and gets them
    await ada.send("/ticket")
    await ada.wait_for("Sending the e-ticket")
    await drain_outbox(paying.services, timeout=30)
    assert len(_documents(ada)) == 2


async def test_the_files_follow_in_their_own_email_when_the_first_drawing_fails(
        paying: PayingBot, monkeypatch: pytest.MonkeyPatch) -> None:
    ada = paying.telegram.traveller(3808, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    tickets = paying.services.tickets
    real = tickets._draw
    failures = [1]

    async def flaky(booking: Booking) -> list[Attachment]:
        if failures:
            failures.pop()
            raise RuntimeError("out of memory")
        files: list[Attachment] = await real(booking)
        return files

    monkeypatch.setattr(tickets, "_draw", flaky)
    tickets._drawn.clear()  # the confirmation's drawing is kept a while: this e-mail must draw again
    notifications = paying.services.notifications
    await notifications.enqueue_all([notifications.email_note(
        f"again-email:{booking.id}", "ada@example.com", "Again", "text", "<p>text</p>", reference=booking.reference,
        tickets_of=str(booking.id))])
    await drain_outbox(paying.services, timeout=30)
    again = [m for m in paying.sendgrid.messages_to("ada@example.com") if "Again" in (m.subject or "")]
    assert [m.subject for m in again] == ["Again", "Your e-ticket: Again"]
    assert again[0].attachments == []
    assert {a["filename"] for a in again[1].attachments} == {
        f"FlyO-e-ticket-{booking.reference}.pdf", f"FlyO-{booking.reference}.ics"}
    assert booking.reference in (again[1].text or "")


async def test_two_deliveries_at_once_issue_one_set_of_numbers(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3809, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace", "Charles Babbage"])
    issued = booking.tickets
    assert issued is not None
    await collection(Booking).update_one({"_id": booking.id}, {"$set": {"tickets": None}})
    results = await asyncio.gather(*(paying.services.tickets.files_for(str(booking.id)) for _ in range(5)))
    numbers = {tuple(b.tickets.numbers) for b, _files in results if b.tickets is not None}
    assert len(numbers) == 1  # every delivery drew the same numbers
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.tickets is not None
    assert tuple(stored.tickets.numbers) in numbers
    assert not set(stored.tickets.numbers) & set(issued.numbers)  # fresh serials: never handed out twice


async def test_admin_resend_of_a_paid_booking_includes_the_files(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3810, first_name="Ada")
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    await admin.send(f"/resend {booking.reference}")
    await admin.wait_for("Sent the confirmation")
    await drain_outbox(paying.services, timeout=30)
    assert len(_documents(ada)) == 4
    mails = paying.sendgrid.messages_to("ada@example.com")
    assert len(mails) == 2 and all(len(m.attachments) == 2 for m in mails)


async def test_the_eml_outbox_carries_the_files_as_mime_parts(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path, "tickets@flyo.test")
    pdf = b"%PDF-1.4 fake but bytes"
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    path = Path(await mailer.send(Email("confirm-email:1", "ada@example.com", "Booking ABC123", "text", "<p>html</p>",
                                        attachments=(Attachment("FlyO-e-ticket-ABC123.pdf", pdf, "application/pdf"),
                                                     Attachment("FlyO-ABC123.ics", ics, "text/calendar")))))
    message = email.message_from_bytes(await asyncio.to_thread(path.read_bytes), policy=policy.default)
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip() == "text"
    files = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(files) == {"FlyO-e-ticket-ABC123.pdf", "FlyO-ABC123.ics"}
    assert files["FlyO-e-ticket-ABC123.pdf"].get_content_type() == "application/pdf"
    assert files["FlyO-e-ticket-ABC123.pdf"].get_content() == pdf
    assert files["FlyO-ABC123.ics"].get_content_type() == "text/calendar"


async def test_the_mybookings_card_has_an_e_ticket_button_that_acts_once_a_minute(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3811, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    before = len(_documents(ada))
    await ada.send("/mybookings")
    def card_with_ticket_button(message: Any) -> bool:
        return booking.reference in message.plain_text() and "🎫 E-ticket" in message.button_labels()

    cards = await ada.wait_for(card_with_ticket_button)
    answered = len(ada.callback_answers)  # the booking's own presses before
    for _ in range(25):
        await ada.press("E-ticket", cards)

    async def all_answered() -> bool:
        return len(ada.callback_answers) >= answered + 25

    await eventually(all_answered, timeout=30)
    toasts = [str(a.get("text") or "") for a in ada.callback_answers[answered:]]
    assert sum("Sending the e-ticket" in t for t in toasts) == 1
    assert sum("already on its way" in t for t in toasts) == 24, toasts
    await drain_outbox(paying.services, timeout=30)
    assert len(_documents(ada)) == before + 2
    mallory = paying.telegram.traveller(3812, first_name="Mallory")
    await mallory.send("/start")
    await mallory.wait_for("FlyO")
    await mallory.press_data(f"*:mbt:{booking.id}", cards.message_id)  # someone else's booking id, forged

    async def refused() -> bool:
        return bool(mallory.callback_answers)

    await eventually(refused)
    assert "Sending" not in str(mallory.callback_answers[0].get("text"))
    await drain_outbox(paying.services)
    assert _documents(mallory) == []
