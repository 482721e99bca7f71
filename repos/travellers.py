"""Saved travellers (`saved_travellers`), the user's contact (`traveller_contacts`), and scrubbing forgotten
answers out of the user's conversation drafts (`conversations`, with the same revision check as a turn).

nx-27017: no datetimes in `$set` (a birth date is only ever written whole: insert or replace), single-field
indexes only (the unique `key` carries the user id), `delete_one`'s count is the claim (one deletion however
often a button is pressed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beanie import PydanticObjectId
from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from models.conversation import Conversation
from models.sealed import seal_draft, seal_text, to_db
from models.traveller import PendingEdit, SavedTraveller, TravellerContact
from repos.base import collection, insert_each_once, object_id


class TravellerRepo:
    # ---- saved travellers ---------------------------------------------------------------------------
    async def list_for(self, user_id: int) -> list[SavedTraveller]:
        """The user's travellers, the user themself first, then the most recently used."""
        return await SavedTraveller.find(SavedTraveller.user_id == user_id).sort(
            "-is_self", "-used_ms", "+created_ms").to_list()

    async def get(self, user_id: int, traveller_id: str) -> SavedTraveller | None:
        """Only the user's own: another user's id, or a malformed one, is None."""
        oid = object_id(traveller_id)
        if oid is None:
            return None
        return await SavedTraveller.find_one({"_id": oid, "user_id": user_id})

    async def by_key(self, key: str) -> SavedTraveller | None:
        return await SavedTraveller.find_one(SavedTraveller.key == key)

    async def insert(self, traveller: SavedTraveller) -> bool:
        """False when the same person was saved a moment ago (unique `key`)."""
        try:
            await traveller.insert()
        except DuplicateKeyError:
            return False
        return True

    async def insert_new(self, travellers: Sequence[SavedTraveller]) -> list[int]:
        """Insert them all in one write; the indexes of those saved already (unique `key`) come back."""
        return await insert_each_once(travellers)

    async def touch_keys(self, updates: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Fields of saved travellers by key, in one bulk write (never the birth date: see above); a document
        number is stored encrypted (models.sealed)."""
        if updates:
            await collection(SavedTraveller).bulk_write(
                [UpdateOne({"key": key}, {"$set": _sealed(fields)}) for key, fields in updates], ordered=False)

    async def touch(self, traveller_id: PydanticObjectId, fields: dict[str, Any]) -> None:
        """Fields of a saved traveller (never the birth date: nx-27017 `$set`s a date as a string)."""
        await collection(SavedTraveller).update_one({"_id": traveller_id}, {"$set": _sealed(fields)})

    async def replace(self, traveller: SavedTraveller) -> bool:
        """The whole document (an edit may change the birth date); False when its new name and birth date are
        another saved traveller's (unique `key`)."""
        try:
            await traveller.replace()
        except DuplicateKeyError:
            return False
        return True

    async def delete(self, user_id: int, traveller_id: PydanticObjectId) -> bool:
        """True for the one call that deleted it."""
        result = await collection(SavedTraveller).delete_one({"_id": traveller_id, "user_id": user_id})
        return result.deleted_count == 1

    async def delete_all(self, user_id: int) -> int:
        result = await collection(SavedTraveller).delete_many({"user_id": user_id})
        return result.deleted_count

    # ---- the contact and the /profile edit in progress ------------------------------------------------
    async def contact(self, user_id: int) -> TravellerContact | None:
        return await TravellerContact.find_one(TravellerContact.user_id == user_id)

    async def set_contact(self, user_id: int, fields: dict[str, Any]) -> None:
        await collection(TravellerContact).update_one({"user_id": user_id}, {"$set": fields}, upsert=True)

    async def set_pending(self, user_id: int, pending: PendingEdit | None) -> None:
        value = to_db(pending) if pending is not None else None  # its birth date encrypted
        await collection(TravellerContact).update_one({"user_id": user_id}, {"$set": {"pending_edit": value}},
                                                      upsert=True)

    async def delete_contact(self, user_id: int) -> bool:
        result = await collection(TravellerContact).delete_one({"user_id": user_id})
        return result.deleted_count == 1

    # ---- the user's conversation drafts ------------------------------------------------------------
    async def conversations_of(self, user_id: int) -> list[Conversation]:
        return await Conversation.find(Conversation.user_id == user_id).to_list()

    async def conversation(self, conversation_id: PydanticObjectId) -> Conversation | None:
        return await Conversation.get(conversation_id)

    async def save_draft(self, conversation: Conversation, draft: dict[str, Any], now_ms: int) -> bool:
        """The draft written if nobody saved the chat since it was read (`rev` unchanged), moving `rev` on (a turn
        of another replica that read the old draft is redone); False otherwise."""
        result = await collection(Conversation).update_one(
            {"_id": conversation.id, "rev": conversation.rev},
            {"$set": {"draft": seal_draft(draft), "rev": conversation.rev + 1, "updated_ms": now_ms}})
        return result.matched_count == 1


def _sealed(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with a document number encrypted, as SavedTraveller stores it (its birth date is never `$set`)."""
    number = fields.get("document_number")
    return {**fields, "document_number": seal_text(number)} if isinstance(number, str) else fields
