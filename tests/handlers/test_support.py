"""Self-service and help: /support reaches the admins with the booking's reference, /reply reaches the traveller;
/help in the middle of a booking asks the current question again."""

from __future__ import annotations

from typing import Any

from models.ops import AuditEntry, Notification
from tests.flows import eventually
from tests.paying import ADMIN_ID, PayingBot


async def test_support_reaches_the_admins_with_the_latest_reference_and_the_reply_reaches_the_traveller(
        paying: PayingBot) -> None:
    ada = paying.telegram.traveller(8701)
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    booking, _session = await paying.booked_with_link(ada)
    await ada.send("/support Can I bring <my> bike?")
    sent = await ada.wait_for("Sent to the FlyO team")
    assert f"about booking {booking.reference}" in sent.plain_text() and "answer here" in sent.plain_text()
    forwarded = (await admin.wait_for("Support", timeout=20)).plain_text()
    assert "Can I bring <my> bike?" in forwarded and booking.reference in forwarded
    assert f"/reply {booking.reference}" in forwarded and str(ada.user_id) in forwarded

    await admin.send(f"/reply {booking.reference} Yes — bikes fly free.\nPack it in a box.")
    done = await admin.wait_for("Sent to the traveller")
    assert booking.reference in done.plain_text()
    answer = (await ada.wait_for("FlyO support", timeout=20)).plain_text()
    assert booking.reference in answer and "Yes — bikes fly free.\nPack it in a box." in answer
    entry = await AuditEntry.find_one(AuditEntry.action == "reply")
    assert entry is not None and entry.outcome == "sent" and entry.target == booking.reference


async def test_support_with_a_reference_someone_elses_reference_and_a_4kb_message(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(8702)
    mallory = paying.telegram.traveller(8703, first_name="Mallory")
    admin = paying.telegram.traveller(ADMIN_ID)
    booking, _session = await paying.booked_with_link(ada)
    await ada.send(f"/support {booking.reference.lower()} Please add a wheelchair")
    await ada.wait_for(f"about booking {booking.reference}")
    # The admins' copy comes through the outbox pump: on a busy machine that takes a moment.
    assert "Please add a wheelchair" in (await admin.wait_for("Support", timeout=20)).plain_text()

    await mallory.send(f"/support {booking.reference} what is in this booking?")
    refused = (await mallory.wait_for("no booking")).plain_text()
    assert "among yours" in refused and "Ada" not in refused
    await mallory.send("/support " + "x" * 4000)
    trimmed = (await mallory.wait_for("Sent to the FlyO team")).plain_text()
    assert "only its first 1000 characters" in trimmed and "about booking" not in trimmed
    notes = await eventually(lambda: _support_notes(8703), timeout=20)
    assert len(notes) == 1  # only the long message, not the foreign reference
    text = str(notes[0].payload["text"])
    assert "x" * 1000 in text and "x" * 1001 not in text and "cut to" in text and booking.reference not in text
    await mallory.send("/support")
    await mallory.wait_for("Tell us what you need")


async def _support_notes(chat_id: int) -> list[Any]:
    return await Notification.find({"key": {"$regex": f"^support:{chat_id}:"}}).to_list()


async def test_reply_to_an_unknown_reference_says_so_and_a_non_admin_is_refused_and_audited(
        paying: PayingBot) -> None:
    ada = paying.telegram.traveller(8704)
    admin = paying.telegram.traveller(ADMIN_ID)
    booking, _session = await paying.booked_with_link(ada)
    await admin.send("/reply NOPE22 hello")
    unknown = (await admin.wait_for("no booking NOPE22")).plain_text()
    assert "nothing was sent" in unknown
    await admin.send(f"/reply {booking.reference}")
    await admin.wait_for("Usage: /reply")
    await ada.send(f"/reply {booking.reference} you have been hacked")
    await ada.wait_for("for FlyO staff only")
    refused = await AuditEntry.find_one(AuditEntry.actor_id == ada.user_id, AuditEntry.action == "reply")
    assert refused is not None and refused.outcome == "refused"
    assert await Notification.find({"key": {"$regex": "^reply:"}}).count() == 0


async def test_help_in_the_middle_of_a_booking_asks_the_current_question_again(bot: Any) -> None:
    t = bot.telegram.traveller(8705)
    await t.send("/search")
    await t.wait_for("Where are you flying from")
    await t.send("LHR")
    await t.wait_for("Where to?")
    await t.send("/help")
    help_text = (await t.wait_for("books flights")).plain_text()
    assert "/support" in help_text
    await t.wait_for("where you left off")
    await t.wait_for("Where to?")
    await t.send("JFK")  # and the booking carries on
    await t.wait_for("When?")


async def test_a_capitalised_six_letter_word_is_read_as_a_reference_and_a_lower_case_one_as_the_message(
        paying: PayingBot) -> None:
    """References may be all letters (1 in 5 is): typed in capitals, a word that isn't one of the traveller's
    bookings is refused whether or not it exists (nothing to probe); typed in lower case it is just the message."""
    eve = paying.telegram.traveller(8706)
    await eve.send("/support QWERTY what is in this booking?")
    await eve.wait_for("no booking QWERTY among yours")
    await eve.send("/support please call me back")
    await eve.wait_for("Sent to the FlyO team")
