"""Birth dates and document numbers encrypted at rest (issue #21): after a real booking through the chat the raw
collections hold neither anywhere — not the booking, the saved traveller, the contact's /profile edit nor the
conversation's draft — while the review, the confirmation, the e-ticket, /profile and the admin's /booking show
what they showed. A value under a key the ring lacks is refused clearly, never half shown."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from core import crypto
from core.data_keys import KEY_FILE
from models import Booking, Conversation, SavedTraveller, TravellerContact
from repos.base import collection
from tests.conftest import SCRIPTED_FLOOD_LIMIT, TEST_DATA_KEY
from tests.flows import drain_outbox, to_passengers
from tests.harness import running_bot
from tests.paying import ADMIN_ID, PayingBot
from tests.pdfread import text_layer

BORN, SHOWN_BORN, DOCUMENT = "1985-12-10", "10.12.1985", "X1234567"
PERSONAL = (Booking, SavedTraveller, TravellerContact, Conversation)


async def raw_documents() -> list[dict[str, Any]]:
    return [doc for model in PERSONAL async for doc in collection(model).find({})]


def plain_leaks(docs: list[dict[str, Any]]) -> list[str]:
    """Where a document holds the birth date (ISO, typed, or as a BSON date) or the document number in clear."""
    leaks = []
    for doc in docs:
        text = repr(doc)
        for needle in (BORN, SHOWN_BORN, DOCUMENT, "datetime.datetime(1985, 12, 10"):
            if needle in text:
                leaks.append(f"{needle} in {text[:300]}")
    return leaks


async def _fill_ada(ada: Any) -> None:
    await ada.send("Ada Lovelace")
    await ada.wait_for("Date of birth")
    await ada.send(SHOWN_BORN)  # as typed: DD.MM.YYYY
    await ada.wait_for("E-mail address")
    await ada.send("ada@example.com")
    await ada.wait_for("Phone number")
    await ada.send("Skip")
    await ada.wait_for("Passport or ID")
    await ada.send(DOCUMENT.lower())


async def test_a_booking_leaves_no_birth_date_or_document_in_clear(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(7301, first_name="Ada")
    await to_passengers(ada, paying.bot.clock)
    await _fill_ada(ada)
    review = await ada.wait_for("Please review your booking")
    assert BORN in review.plain_text()
    stored = await collection(Conversation).find_one({"chat_id": 7301})
    assert stored is not None and crypto.is_sealed(stored["draft"]["people"][0]["dob"])
    assert crypto.is_sealed(stored["draft"]["people"][0]["doc"])
    assert not plain_leaks(await raw_documents())

    await ada.press("Confirm and pay")
    await ada.wait_for("Pay")
    booking = await Booking.find_one(Booking.user_id == 7301)
    assert booking is not None and booking.payment.session_id
    assert str(booking.passengers[0].birth_date) == BORN and booking.passengers[0].document_number == DOCUMENT
    status, body = await paying.post_event(paying.completed_event(booking.payment.session_id))
    assert (status, body["outcome"]) == (200, "confirmed")
    confirmed = await ada.wait_for("is confirmed")
    assert "Ada Lovelace" in confirmed.plain_text()
    await drain_outbox(paying.services, timeout=30)

    docs = await raw_documents()
    assert {d.get("full_name") for d in docs if "key" in d} == {"Ada Lovelace"}  # the saved traveller is there
    assert not plain_leaks(docs), plain_leaks(docs)
    raw = await collection(Booking).find_one({"_id": booking.id})
    assert raw is not None and crypto.is_sealed(raw["passengers"][0]["birth_date"])

    # What the traveller and the admin see is what they saw before encryption.
    pdf = next(m.document.content for m in ada.messages() if m.document and m.document.filename.endswith(".pdf"))
    assert any("LOVELACE" in page.upper() for page in text_layer(pdf))
    await ada.send("/profile")
    card = await ada.wait_for("Born")
    assert "1985" in card.plain_text() and "•••••567" in card.plain_text()
    admin = paying.telegram.traveller(ADMIN_ID)
    await admin.send(f"/booking {booking.reference}")
    shown = await admin.wait_for(booking.reference)
    assert f"Ada Lovelace ({BORN})" in shown.plain_text()
    await ada.send("/mybookings")
    assert booking.reference in (await ada.wait_for(booking.reference)).plain_text()


async def test_a_profile_edit_in_progress_keeps_the_new_birth_date_sealed(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(7302)
    await paying.paid_booking(ada, ["Ada Lovelace"])
    await ada.send("/profile")
    card = await ada.wait_for("Born")
    await ada.press("Edit", card)
    await ada.wait_for("Type the full name")
    await ada.send("Ada King")
    await ada.wait_for("Type the date of birth")
    await ada.send(BORN)
    await ada.wait_for("travel document number")
    contact = await collection(TravellerContact).find_one({"user_id": 7302})
    assert contact is not None and crypto.is_sealed(contact["pending_edit"]["birth_date"])
    await ada.send(DOCUMENT)
    await ada.wait_for("Ada King")
    assert not plain_leaks(await raw_documents())
    saved = await SavedTraveller.find_one(SavedTraveller.user_id == 7302)
    assert saved is not None and str(saved.birth_date) == BORN and saved.document_number == DOCUMENT


async def test_a_booking_under_a_key_not_in_the_ring_is_refused_clearly(paying: PayingBot,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """Decision: the booking is not shown at all (nothing half-read, nothing overwritten); the traveller reads that
    their details can't be read right now, the log names the key's id and DATA_ENCRYPTION_KEYS. With the key back in
    the ring (second is enough) the booking shows again: nothing was lost."""
    ada = paying.telegram.traveller(7303)
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    lost_key = crypto.generate_key()
    lost = crypto.KeyRing.from_text(lost_key)
    raw = await collection(Booking).find_one({"_id": booking.id})
    assert raw is not None
    people = raw["passengers"]
    people[0]["birth_date"] = lost.seal(BORN)  # as if written under a key since removed from the ring
    await collection(Booking).update_one({"_id": booking.id}, {"$set": {"passengers": people}})
    with pytest.raises(crypto.UnreadableData, match=lost.current):
        await Booking.get(booking.id)
    with caplog.at_level(logging.ERROR, logger="flyo.errors"):
        await ada.send("/mybookings")
        refused = await ada.wait_for("can't be read right now")
    assert "Nothing was changed or lost" in refused.plain_text()
    assert any(lost.current in r.getMessage() and "DATA_ENCRYPTION_KEYS" in r.getMessage() for r in caplog.records)
    crypto.install(crypto.KeyRing.from_text(f"{paying.bot.settings.data_encryption_keys},{lost_key}"))
    found = await Booking.get(booking.id)
    assert found is not None and str(found.passengers[0].birth_date) == BORN
    await ada.send("/mybookings")
    await ada.wait_for(lambda m: booking.reference in m.plain_text() and "can't be read" not in m.plain_text())


async def test_the_embedded_database_makes_its_key_once_and_keeps_it(inventory_db: Any, telegram: Any,
                                                                      tmp_path: Path) -> None:
    """No DATA_ENCRYPTION_KEYS and no MONGODB_URI (`make run` on a laptop): a key made on the first start, 0600,
    read again by the next start — a booking in progress survives the restart with its birth date."""
    key_file = tmp_path / KEY_FILE
    async with running_bot(inventory_db, telegram, tmp_path, DATA_ENCRYPTION_KEYS=None,
                           FLOOD_MAX_UPDATES=SCRIPTED_FLOOD_LIMIT) as first:
        assert key_file.stat().st_mode & 0o777 == 0o600
        made = key_file.read_text()
        ada = telegram.traveller(7304)
        await to_passengers(ada, first.clock)
        await _fill_ada(ada)
        await ada.wait_for("Please review your booking")
    stored = await collection(Conversation).find_one({"chat_id": 7304})
    assert stored is not None and stored["draft"]["people"][0]["dob"].startswith(
        f"fy1:{crypto.KeyRing.from_text(made).current}:")
    crypto.install(crypto.KeyRing.from_text(TEST_DATA_KEY))  # what the next start must not depend on
    async with running_bot(inventory_db, telegram, tmp_path, DATA_ENCRYPTION_KEYS=None,
                           FLOOD_MAX_UPDATES=SCRIPTED_FLOOD_LIMIT):
        assert key_file.read_text() == made  # reused, not made again
        await ada.send("/start")
        await ada.wait_for(lambda m: BORN in m.plain_text() and "review" in m.plain_text().lower())


async def test_forgetting_a_saved_traveller_rewrites_the_drafts_sealed(paying: PayingBot) -> None:
    """/profile's delete scrubs the traveller's answers out of the user's drafts (its own conditional write): the
    answers left — another passenger's birth date — stay sealed."""
    ada = paying.telegram.traveller(7305)
    await paying.paid_booking(ada, ["Ada Lovelace"])
    saved = await SavedTraveller.find_one(SavedTraveller.user_id == 7305)
    assert saved is not None
    store = paying.services.conversations
    conversation = await store.load(7305, 7305)
    conversation.draft = {"pax": 2, "people": [{"name": "Ada Lovelace", "dob": BORN, "saved": str(saved.id)},
                                               {"name": "Bob Babbage", "dob": "1971-01-02", "doc": DOCUMENT}]}
    await store.save(conversation)
    assert await paying.services.travellers.forget(7305, str(saved.id))
    raw = await collection(Conversation).find_one({"chat_id": 7305})
    assert raw is not None and "dob" not in raw["draft"]["people"][0]  # Ada's answers went with her
    assert crypto.is_sealed(raw["draft"]["people"][1]["dob"]) and crypto.is_sealed(raw["draft"]["people"][1]["doc"])
    assert not plain_leaks(await raw_documents())
