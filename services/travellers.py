"""Saved travellers: who a user booked for, offered on their next booking, and /profile's rules.

`remember` is called when a booking is created: every passenger is saved once per (user, name + birth date) —
saving the same person again updates them and counts as a use — and passenger 1 becomes the user themself
("(you)") unless someone already is. At most `cap` travellers per user: the least recently used goes (never the
user themself). `forget`/`forget_all` really delete: the documents, and the answers that came from them in the
user's conversation drafts (a draft person whose `saved` is the traveller loses name, birth date and document, so
the flow asks again; forgetting the contact clears e-mail and phone answers equal to it), each draft written with
the conversation's revision check and retried when a turn saved it meanwhile.
"""

from __future__ import annotations

import builtins
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.clock import Clock
from core.crypto import ring
from models.booking import Passenger
from models.conversation import Conversation
from models.traveller import PendingEdit, SavedTraveller
from repos.travellers import TravellerRepo

CAP = 10  # saved travellers per user
RETRIES = 5  # conditional draft writes per conversation before giving up (a busy chat)
FROM_SAVED = ("name", "dob", "doc", "saved")  # a draft person's answers that a saved traveller filled in
FROM_CONTACT = ("email", "phone")


@dataclass(frozen=True)
class SavedBefore:
    """What the user had saved when their passenger questions were asked (the list is read for those)."""

    count: int
    has_self: bool


def traveller_key(user_id: int, full_name: str, birth_date: date) -> str:
    """One person per user however the name was typed: case, accents and spacing folded. The birth date goes in
    as a keyed hash (core.crypto), not as itself: it is encrypted everywhere else. `rotate-keys` re-keys it."""
    folded = unicodedata.normalize("NFKD", " ".join(full_name.split())).casefold()
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return f"{user_id}:{plain}:{ring().fingerprint(birth_date.isoformat())}"


class TravellerService:
    def __init__(self, clock: Clock, repo: TravellerRepo | None = None, *, cap: int = CAP) -> None:
        self.clock = clock
        self.repo = repo or TravellerRepo()
        self.cap = cap

    # ---- what the booking flow asks ---------------------------------------------------------------------
    async def list(self, user_id: int) -> builtins.list[SavedTraveller]:
        """"You" first, then by last use."""
        return await self.repo.list_for(user_id)

    async def get(self, user_id: int, traveller_id: str) -> SavedTraveller | None:
        """The user's own traveller; another user's id (or garbage) is None."""
        return await self.repo.get(user_id, traveller_id)

    async def contact(self, user_id: int) -> tuple[str | None, str | None]:
        found = await self.repo.contact(user_id)
        return (found.email, found.phone) if found is not None else (None, None)

    async def remember(self, user_id: int, passengers: builtins.list[Passenger], email: str | None,
                       phone: str | None, *, known: SavedBefore | None = None) -> bool:
        """Save a new booking's passengers and contact (same person again: updated, not duplicated). True when
        the user had no saved traveller before (the first time: the chat says where to manage them).

        `known`: what the passenger questions read of the user's list (how many, whether "you" is among them),
        so nothing is read here; without it the list is read once. Then one write for all the new people (an
        unordered insert: a person saved before is refused by the unique key, not looked up), one for the
        people saved before (if any), one for the contact."""
        now = self.clock.now_ms()
        if known is None:
            saved = await self.repo.list_for(user_id)
            known = SavedBefore(len(saved), any(t.is_self for t in saved))
        # (a passenger without a birth date is one of a redacted booking's: never a new booking's, nothing to save)
        people = [(traveller_key(user_id, p.full_name, born), p, born) for p in passengers
                  if (born := p.birth_date) is not None]
        is_self = [index == 0 and not known.has_self for index in range(len(people))]
        fresh = [SavedTraveller(user_id=user_id, key=key, full_name=p.full_name, birth_date=born,
                                document_number=p.document_number, is_self=me, created_ms=now, updated_ms=now,
                                used_ms=now)
                 for (key, p, born), me in zip(people, is_self, strict=True)]
        existed = await self.repo.insert_new(fresh)  # indexes of the people saved before
        updates: builtins.list[tuple[str, dict[str, Any]]] = []
        for index in existed:
            key, passenger, _born = people[index]
            fields: dict[str, Any] = {"full_name": passenger.full_name, "updated_ms": now, "used_ms": now}
            if passenger.document_number:  # a booking without one keeps the saved one
                fields["document_number"] = passenger.document_number
            if is_self[index]:
                fields["is_self"] = True
            updates.append((key, fields))
        await self.repo.touch_keys(updates)
        if known.count + len(fresh) - len(existed) > self.cap:
            await self._trim(user_id)
        contact: dict[str, Any] = {"user_id": user_id, "updated_ms": now}
        if email:
            contact["email"] = email
        if phone:
            contact["phone"] = phone
        await self.repo.set_contact(user_id, contact)
        return known.count == 0

    async def _trim(self, user_id: int) -> None:
        saved = await self.repo.list_for(user_id)
        others = [t for t in saved if not t.is_self]
        keep = self.cap - (len(saved) - len(others))
        for dropped in others[max(keep, 0):]:  # `others` is newest first: the least recently used go
            assert dropped.id is not None
            await self.repo.delete(user_id, dropped.id)

    # ---- /profile: edit -------------------------------------------------------------------------------
    async def pending(self, user_id: int) -> PendingEdit | None:
        found = await self.repo.contact(user_id)
        return found.pending_edit if found is not None else None

    async def set_pending(self, user_id: int, pending: PendingEdit | None) -> None:
        await self.repo.set_pending(user_id, pending)

    async def update(self, user_id: int, traveller_id: str, full_name: str, birth_date: date,
                     document_number: str | None) -> SavedTraveller | None:
        """An edited traveller (None: deleted meanwhile). Edited into someone already saved: the two become one."""
        traveller = await self.repo.get(user_id, traveller_id)
        if traveller is None:
            return None
        traveller.full_name, traveller.birth_date = full_name, birth_date
        traveller.document_number = document_number
        traveller.key = traveller_key(user_id, full_name, birth_date)
        traveller.updated_ms = self.clock.now_ms()
        if not await self.repo.replace(traveller):
            twin = await self.repo.by_key(traveller.key)
            if twin is not None and twin.id != traveller.id:
                traveller.is_self = traveller.is_self or twin.is_self
                await self.forget(user_id, str(twin.id))
            if not await self.repo.replace(traveller):
                return None
        return traveller

    # ---- forgetting ---------------------------------------------------------------------------------------
    async def forget(self, user_id: int, traveller_id: str) -> bool:
        """Delete one traveller and the draft answers that came from them; True for the call that deleted."""
        traveller = await self.repo.get(user_id, traveller_id)
        if traveller is None or traveller.id is None:
            return False
        if not await self.repo.delete(user_id, traveller.id):
            return False
        await self._scrub(user_id, saved_ids={str(traveller.id)}, contact=())
        return True

    async def forget_all(self, user_id: int) -> int:
        """Every saved traveller and the contact; how many travellers were deleted."""
        saved = await self.repo.list_for(user_id)
        found = await self.repo.contact(user_id)
        count = await self.repo.delete_all(user_id)
        contact = tuple(v for v in ((found.email, found.phone) if found is not None else ()) if v)
        await self.repo.delete_contact(user_id)
        await self._scrub(user_id, saved_ids={str(t.id) for t in saved}, contact=contact)
        return count

    async def _scrub(self, user_id: int, *, saved_ids: set[str], contact: tuple[str, ...]) -> None:
        for conversation in await self.repo.conversations_of(user_id):
            current: Conversation | None = conversation
            for _attempt in range(RETRIES):
                if current is None:
                    break
                draft = _scrubbed(current.draft, saved_ids, contact)
                if draft is None or await self.repo.save_draft(current, draft, self.clock.now_ms()):
                    break
                assert current.id is not None
                current = await self.repo.conversation(current.id)  # a turn saved it meanwhile: again
            else:
                raise RuntimeError(f"could not scrub the drafts of chat {conversation.chat_id}")


def _scrubbed(draft: dict[str, Any], saved_ids: set[str], contact: tuple[str, ...]) -> dict[str, Any] | None:
    """The draft without the forgotten answers; None when it holds none."""
    people = draft.get("people")
    if not isinstance(people, list):
        return None
    changed = False
    kept: list[Any] = []
    for person in people:
        if not isinstance(person, dict):
            kept.append(person)
            continue
        person = dict(person)
        if person.get("saved") is not None and str(person["saved"]) in saved_ids:
            for field in FROM_SAVED:
                person.pop(field, None)
            changed = True
        for field in FROM_CONTACT:
            if contact and person.get(field) in contact:
                person.pop(field)
                changed = True
        kept.append(person)
    return {**draft, "people": kept} if changed else None
