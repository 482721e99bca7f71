"""`python -m bot rotate-keys`: every encrypted value re-encrypted under the ring's first key (docs/operations.md,
"Rotating the data encryption key").

Documents are read raw in `_id` order, in batches, and a value is rewritten only when it is not under the first
key yet (or still plain, from before encryption; a legacy birth date stored as a BSON date too), so a rerun — after
a crash, or twice by mistake — rewrites nothing it did before. Each write is conditional on the document being as
read (`updated_ms`, the conversation's `rev`, the edit's own value): a booking paid or a chat answered meanwhile is
read again and retried, never overwritten with older values. The saved travellers' keys hold a keyed hash of the
birth date under the first key (services.travellers.traveller_key) and are re-keyed too; a person saved twice
meanwhile (under the new key and the old) becomes one. A value under a key the ring lacks is counted and left as
it is: the run says so and exits non-zero, and the missing key must be added back before the old ones go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from beanie import Document
from pymongo.errors import DuplicateKeyError

from core.crypto import UnreadableData, ring
from models.booking import Booking
from models.conversation import Conversation
from models.sealed import DRAFT_FIELDS, DRAFT_PERSON_FIELDS
from models.traveller import SavedTraveller, TravellerContact
from repos.personal_data import PersonalDataRepo
from services.travellers import traveller_key

BATCH = 500
ATTEMPTS = 3  # a document changing under the rotation this often in a row is counted busy (run again later)


@dataclass
class Tally:
    read: int = 0
    rewritten: int = 0  # documents
    values: int = 0  # values re-encrypted (or encrypted for the first time)
    unreadable: int = 0  # values under a key the ring lacks (or altered)
    busy: int = 0  # documents that kept changing: the next run takes them
    merged: int = 0  # saved travellers found twice (old and new key) made one

    def line(self, name: str) -> str:
        extra = f", {self.merged} duplicates merged" if self.merged else ""
        return (f"{name}: {self.read} read, {self.rewritten} rewritten ({self.values} values), "
                f"{self.unreadable} unreadable, {self.busy} busy{extra}")


@dataclass(frozen=True)
class Change:
    fields: dict[str, Any]  # what to `$set`
    guard: dict[str, Any]  # what the document must still be, beside its `_id`


def _iso_date(plain: str) -> str:
    return date.fromisoformat(plain[:10]).isoformat()


class KeyRotation:
    def __init__(self, repo: PersonalDataRepo | None = None, *, batch: int = BATCH) -> None:
        self.repo = repo or PersonalDataRepo()
        self.batch = batch

    async def run(self) -> dict[str, Tally]:
        return {
            "bookings": await self._collection(Booking, {"passengers": 1, "updated_ms": 1}, self._booking),
            "saved_travellers": await self._collection(SavedTraveller, {
                "birth_date": 1, "document_number": 1, "key": 1, "user_id": 1, "full_name": 1, "updated_ms": 1,
                "is_self": 1}, self._traveller),
            "traveller_contacts": await self._collection(TravellerContact, {"pending_edit": 1}, self._contact),
            "conversations": await self._collection(Conversation, {"draft": 1, "rev": 1}, self._conversation),
        }

    async def _collection(self, model: type[Document], projection: dict[str, int],
                          plan: Callable[[dict[str, Any], Tally], Change | None]) -> Tally:
        tally = Tally()
        after = None
        while batch := await self.repo.batch(model, after, self.batch, projection):
            for doc in batch:
                tally.read += 1
                await self._rotate(model, projection, plan, doc, tally)
            after = batch[-1]["_id"]
        return tally

    async def _rotate(self, model: type[Document], projection: dict[str, int],
                      plan: Callable[[dict[str, Any], Tally], Change | None], doc: dict[str, Any] | None,
                      tally: Tally) -> None:
        for _attempt in range(ATTEMPTS):
            if doc is None:
                return  # deleted meanwhile
            counted = Tally()
            change = plan(doc, counted)
            if change is None:
                tally.unreadable += counted.unreadable
                return
            try:
                written = await self.repo.set_if(model, {"_id": doc["_id"], **change.guard}, change.fields)
            except DuplicateKeyError:  # a saved traveller re-keyed onto a twin saved under the new key meanwhile
                await self._merge(doc, change.fields["key"])
                tally.merged += 1
                return
            if written:
                tally.rewritten += 1
                tally.values += counted.values
                tally.unreadable += counted.unreadable
                return
            doc = await self.repo.one(model, doc["_id"], projection)  # changed since read: again, fresh
        tally.busy += 1

    async def _merge(self, doc: dict[str, Any], key: str) -> None:
        """Keep the twin (saved under the new key, so used since); "you" stays "you"."""
        if doc.get("is_self"):
            await self.repo.set_if(SavedTraveller, {"key": key}, {"is_self": True})
        await self.repo.delete(SavedTraveller, doc["_id"])

    # ---- one value --------------------------------------------------------------------------------------
    @staticmethod
    def _value(value: Any, tally: Tally, *, is_date: bool = False) -> Any:
        """`value` under the first key; as it was when it is already, or when it can't be read (counted)."""
        keys = ring()
        if is_date and isinstance(value, datetime):  # Beanie wrote a plain date as a BSON date before encryption
            value = value.date().isoformat()
        if not isinstance(value, str) or keys.is_current(value):
            return value
        try:
            plain = keys.open(value)
        except UnreadableData:
            tally.unreadable += 1
            return value
        tally.values += 1
        return keys.seal(_iso_date(plain) if is_date else plain)

    # ---- one document of each kind: the fields to write, or None when nothing is to change -------------------
    def _booking(self, doc: dict[str, Any], tally: Tally) -> Change | None:
        people = [dict(p) if isinstance(p, dict) else p for p in doc.get("passengers") or []]
        for person in people:
            if isinstance(person, dict):
                person["birth_date"] = self._value(person.get("birth_date"), tally, is_date=True)
                person["document_number"] = self._value(person.get("document_number"), tally)
        return Change({"passengers": people}, {"updated_ms": doc.get("updated_ms")}) if tally.values else None

    def _traveller(self, doc: dict[str, Any], tally: Tally) -> Change | None:
        born = self._value(doc.get("birth_date"), tally, is_date=True)
        number = self._value(doc.get("document_number"), tally)
        fields: dict[str, Any] = {"birth_date": born, "document_number": number}
        keys = ring()
        if isinstance(born, str) and keys.readable(born):  # the key's hash of the birth date, under the first key
            key = traveller_key(int(doc.get("user_id", 0)), str(doc.get("full_name", "")),
                                date.fromisoformat(_iso_date(keys.open(born))))
            if key != doc.get("key"):
                fields["key"] = key
                tally.values += 1
        if not tally.values:
            return None
        return Change(fields, {"updated_ms": doc.get("updated_ms")})

    def _contact(self, doc: dict[str, Any], tally: Tally) -> Change | None:
        pending = doc.get("pending_edit")
        if not isinstance(pending, dict) or not pending.get("birth_date"):
            return None
        old = pending["birth_date"]
        new = self._value(old, tally)
        return Change({"pending_edit": {**pending, "birth_date": new}}, {"pending_edit.birth_date": old}) \
            if tally.values else None

    def _conversation(self, doc: dict[str, Any], tally: Tally) -> Change | None:
        draft = doc.get("draft")
        if not isinstance(draft, dict):
            return None
        draft = dict(draft)
        for name in DRAFT_FIELDS:
            if name in draft:
                draft[name] = self._value(draft[name], tally)
        people = draft.get("people")
        if isinstance(people, list):
            draft["people"] = [{k: self._value(v, tally) if k in DRAFT_PERSON_FIELDS else v for k, v in p.items()}
                               if isinstance(p, dict) else p for p in people]
        return Change({"draft": draft}, {"rev": doc.get("rev")}) if tally.values else None


def report(tallies: dict[str, Tally]) -> list[str]:
    """What the command prints, one line per collection and a last line saying what to do next."""
    lines = [tally.line(name) for name, tally in tallies.items()]
    unreadable = sum(t.unreadable for t in tallies.values())
    busy = sum(t.busy for t in tallies.values())
    if unreadable:
        lines.append(f"{unreadable} value(s) are under a key not in DATA_ENCRYPTION_KEYS: add it back (after the "
                     "first) and run rotate-keys again before removing any key")
    elif busy:
        lines.append(f"{busy} document(s) kept changing: run rotate-keys again")
    else:
        lines.append(f"every value is under the first key ({ring().current}): the other keys may be removed")
    return lines
