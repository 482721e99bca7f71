"""Saved travellers and the contact details FlyO remembers per Telegram user (services.travellers)."""

from __future__ import annotations

from typing import ClassVar

from beanie import Document
from pydantic import BaseModel, ConfigDict
from pymongo import ASCENDING, IndexModel

from models.sealed import SEALED_ENCODERS, SealedDate, SealedText


class SavedTraveller(Document):
    """A person the user booked for, offered on the next booking. One per (user, name + birth date): `key`."""

    user_id: int
    key: str  # "<user_id>:<folded name>:<keyed hash of the birth date>" (services.travellers.traveller_key): unique
    model_config = ConfigDict(validate_assignment=True)  # an edit's new birth date is sealed like the first

    full_name: str
    birth_date: SealedDate  # encrypted in the database (models.sealed), like the document
    document_number: SealedText | None = None
    is_self: bool = False  # the user themself: "Ada Lovelace (you)"
    created_ms: int = 0
    updated_ms: int = 0
    used_ms: int = 0  # last booked for: the least recently used goes first when the list is full

    class Settings:
        name = "saved_travellers"
        bson_encoders = SEALED_ENCODERS
        # Single-field indexes only: the unique key carries the user id (nx-27017 scans compound indexes).
        indexes: ClassVar[list[IndexModel]] = [IndexModel([("key", ASCENDING)], unique=True),
                                               IndexModel([("user_id", ASCENDING)])]


class PendingEdit(BaseModel):
    """A /profile edit waiting for typed answers: which traveller, which question, the answers so far, and the
    chat's conversation revision when it was asked (any other turn in the chat moves it on: the edit lapses)."""

    traveller_id: str
    field: str  # "name", "dob" or "doc"
    rev: int
    full_name: str | None = None
    birth_date: SealedText | None = None  # ISO; encrypted in the database like the traveller's own


class TravellerContact(Document):
    """The user's contact e-mail and phone (E.164) from their last booking, and a /profile edit in progress."""

    user_id: int
    email: str | None = None
    phone: str | None = None
    updated_ms: int = 0
    pending_edit: PendingEdit | None = None

    class Settings:
        name = "traveller_contacts"
        bson_encoders = SEALED_ENCODERS
        indexes: ClassVar[list[IndexModel]] = [IndexModel([("user_id", ASCENDING)], unique=True)]
