"""Rotating the data encryption key (issue #21; docs/operations.md): values written under key A read with the ring
[B, A]; `python -m bot rotate-keys` moves every one — bookings, saved travellers (and their keys' hash), a /profile
edit, a conversation's draft, and plain values from before encryption — under B, after which [B] alone reads
everything; a rerun changes nothing; a crash midway is finished by the next run; a value under a key the ring lacks
is counted and kept, and the command says what to do."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from typing import Any

from bson import ObjectId

from core import crypto
from core.config import Settings
from models import Booking, Conversation, SavedTraveller, TravellerContact
from models.traveller import PendingEdit
from repos.base import collection
from repos.personal_data import PersonalDataRepo
from services.key_rotation import KeyRotation, Tally, report
from services.travellers import traveller_key
from tests.conftest import REPO_ROOT, TEST_DATA_KEY
from tests.flows import to_passengers
from tests.paying import PayingBot

A = TEST_DATA_KEY  # what the running FlyO wrote with
B = crypto.generate_key()
PERSONAL = (Booking, SavedTraveller, TravellerContact, Conversation)


def _sealed_values(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _sealed_values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _sealed_values(item)]
    return [value] if crypto.is_sealed(value) else []


async def _key_ids() -> dict[str, int]:
    """How many sealed values each key holds, across the collections with personal data."""
    ids: dict[str, int] = {}
    for model in PERSONAL:
        async for doc in collection(model).find({}):
            for value in _sealed_values(doc):
                ids[crypto.sealed_key_id(value)] = ids.get(crypto.sealed_key_id(value), 0) + 1
    return ids


async def _data_under_a(paying: PayingBot) -> Booking:
    """A paid booking with a document, its saved traveller, a /profile edit half done, another chat's draft with a
    birth date and a document, and a booking stored before encryption (plain, its birth date a BSON date)."""
    ada = paying.telegram.traveller(7401)
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    saved = await SavedTraveller.find_one(SavedTraveller.user_id == 7401)
    assert saved is not None
    await paying.services.travellers.set_pending(7401, PendingEdit(traveller_id=str(saved.id), field="doc", rev=1,
                                                                   full_name="Ada King", birth_date="1985-12-10"))
    bob = paying.telegram.traveller(7402)
    await to_passengers(bob, paying.bot.clock)
    await bob.send("Bob Babbage")
    await bob.wait_for("Date of birth")
    await bob.send("1971-01-02")
    await bob.wait_for("E-mail address")
    raw = await collection(Booking).find_one({"_id": booking.id})
    assert raw is not None
    legacy = {**raw, "_id": ObjectId(), "reference": "OLD123", "draft_key": None, "user_id": 7403, "chat_id": 7403,
              "status": "CANCELLED", "seats_released_ms": 1,  # (its seats are Ada's: the invariants would object)
              "passengers": [{"full_name": "Old Timer", "birth_date": datetime(1950, 5, 6), "email": None,
                              "phone": None, "document_number": "P7654321", "on_lap": False}]}
    await collection(Booking).insert_one(legacy)
    return booking


async def _rotate_keys_command(paying: PayingBot, uri: str, keys: str) -> tuple[int, str, str]:
    settings: Settings = paying.bot.settings
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields} | {
        "MONGODB_URI": uri, "MONGODB_DB": settings.MONGODB_DB,
        "DATA_DIR": str(settings.DATA_DIR), "DATA_ENCRYPTION_KEYS": keys, "LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "rotate-keys", cwd=REPO_ROOT,
                                                   env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_rotation_moves_everything_to_the_new_key_and_a_rerun_changes_nothing(paying: PayingBot,
                                                                                   mongo_uri: str) -> None:
    booking = await _data_under_a(paying)
    a, b = crypto.KeyRing.from_text(A).current, crypto.KeyRing.from_text(B).current
    assert set(await _key_ids()) == {a}

    crypto.install(crypto.KeyRing.from_text(f"{B},{A}"))  # step 2 of the run book: the new key first everywhere
    read = await Booking.get(booking.id)
    assert read is not None and read.passengers[0].full_name == "Ada Lovelace"
    old = await Booking.find_one(Booking.reference == "OLD123")
    assert old is not None and old.passengers[0].document_number == "P7654321"  # plain from before: still reads

    code, out, err = await _rotate_keys_command(paying, mongo_uri, f"{B},{A}")
    assert code == 0, (out, err)
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line and not line.startswith("every"))
    assert lines["bookings"].startswith("2 read, 2 rewritten (3 values), 0 unreadable"), out  # 1 + 2 plain
    assert lines["saved_travellers"].startswith("1 read, 1 rewritten (2 values)"), out  # date, key's hash
    assert lines["traveller_contacts"].startswith("1 read, 1 rewritten (1 values)"), out
    assert "rewritten (1 values)" in lines["conversations"], out  # Bob's draft birth date
    assert f"every value is under the first key ({b})" in out
    assert set(await _key_ids()) == {b}

    crypto.install(crypto.KeyRing.from_text(B))  # step 4: the old key gone
    for model in PERSONAL:
        assert len(await model.find_all().to_list()) >= 1  # type: ignore[attr-defined]
    old = await Booking.find_one(Booking.reference == "OLD123")
    assert old is not None and str(old.passengers[0].birth_date) == "1950-05-06"
    saved = await SavedTraveller.find_one(SavedTraveller.user_id == 7401)
    assert saved is not None and saved.key == traveller_key(7401, "Ada Lovelace", saved.birth_date)
    contact = await TravellerContact.find_one(TravellerContact.user_id == 7401)
    assert contact is not None and contact.pending_edit is not None and contact.pending_edit.birth_date == "1985-12-10"
    bob = await paying.services.conversations.repo.get(7402)
    assert bob is not None and bob.draft["people"][0]["dob"] == "1971-01-02"
    # The same person saved again is recognised under the new key: updated, not saved twice.
    assert read is not None
    await paying.services.travellers.remember(7401, read.passengers, None, None)
    assert await SavedTraveller.find(SavedTraveller.user_id == 7401).count() == 1

    code, out, _err = await _rotate_keys_command(paying, mongo_uri, B)
    assert code == 0 and out.count(" 0 rewritten (0 values)") == 4, out


async def test_a_crash_midway_is_finished_by_the_next_run(paying: PayingBot) -> None:
    await _data_under_a(paying)
    crypto.install(crypto.KeyRing.from_text(f"{B},{A}"))

    class Crashing(PersonalDataRepo):
        writes = 0

        async def set_if(self, model: Any, guard: dict[str, Any], fields: dict[str, Any]) -> bool:
            Crashing.writes += 1
            if Crashing.writes == 2:
                raise RuntimeError("killed")
            return await super().set_if(model, guard, fields)

    try:
        await KeyRotation(Crashing(), batch=1).run()
    except RuntimeError:
        pass
    else:
        raise AssertionError("the rotation did not crash")
    assert len(await _key_ids()) == 2  # half done: both keys in use
    first = await KeyRotation(batch=1).run()
    assert all(t.unreadable == t.busy == 0 for t in first.values())
    assert set(await _key_ids()) == {crypto.KeyRing.from_text(B).current}
    again = await KeyRotation().run()
    assert [t.rewritten for t in again.values()] == [0, 0, 0, 0]


async def test_a_value_under_a_key_not_in_the_ring_is_counted_and_kept(paying: PayingBot, mongo_uri: str) -> None:
    await _data_under_a(paying)
    lost = crypto.KeyRing.from_text(crypto.generate_key())
    sealed = lost.seal("C9999999")
    await collection(SavedTraveller).update_one({"user_id": 7401}, {"$set": {"document_number": sealed}})
    crypto.install(crypto.KeyRing.from_text(f"{B},{A}"))
    code, out, _err = await _rotate_keys_command(paying, mongo_uri, f"{B},{A}")
    assert code == 1 and "saved_travellers: 1 read, 1 rewritten (2 values), 1 unreadable" in out, out
    assert "under a key not in DATA_ENCRYPTION_KEYS: add it back" in out
    stored = await collection(SavedTraveller).find_one({"user_id": 7401})
    assert stored is not None and stored["document_number"] == sealed  # kept for when the key is back


def test_the_report_says_what_to_do() -> None:
    crypto.install(crypto.KeyRing.from_text(B))
    assert report({"bookings": Tally(read=3, busy=1)})[-1] == "1 document(s) kept changing: run rotate-keys again"
