"""Personal data sealed at rest (core.crypto): the field types that encrypt on the way to MongoDB and decrypt on the
way back, so services and handlers only ever see plain dates and strings.

Three ways a document reaches the database, each covered:

- Beanie's own writes (insert, replace) encode by value type, not by field: a sealed field's value is a marker
  subclass (`SealedDateValue` of date, `SealedTextValue` of str) and each document lists `SEALED_ENCODERS` in
  its `bson_encoders`. The models validate assignment, so a plain value assigned later is marked too.
- The repositories' `$set` of sub-documents: `model_dump(mode="json", context=TO_DB)` (`to_db`); the field
  serializer seals there and only there — JSON for pages, tickets and e-mails stays plain.
- Conversation drafts are plain dicts: `seal_draft` / `open_draft` at the conversation repository and model.

Reading opens a sealed value and takes a plain one as it is (a document written before encryption), so old data
loads; it is sealed on its next write or by `python -m bot rotate-keys`. A value under a key the ring lacks raises
core.crypto.UnreadableData, which pydantic lets through unwrapped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, SerializationInfo, WrapSerializer

from core.crypto import is_sealed, ring

SEAL = "seal"
TO_DB: dict[str, Any] = {SEAL: True}  # model_dump(mode="json", context=TO_DB): what a repository `$set`s
DRAFT_PERSON_FIELDS = ("dob", "doc")  # a draft passenger's answers sealed in `conversations` (models.conversation)
DRAFT_FIELDS = ("old_answer",)  # the answer being changed from the review (a birth date or document, maybe)


class SealedDateValue(date):
    """A date Beanie writes sealed (SEALED_ENCODERS); otherwise an ordinary date."""


class SealedTextValue(str):
    """A string Beanie writes sealed (SEALED_ENCODERS); otherwise an ordinary string."""

    __slots__ = ()


def _open(value: Any) -> Any:
    return ring().open(value) if is_sealed(value) else value


def _mark_date(value: date) -> date:
    return value if isinstance(value, SealedDateValue) else SealedDateValue(value.year, value.month, value.day)


def _mark_text(value: str) -> str:
    return value if isinstance(value, SealedTextValue) else SealedTextValue(value)


def _serialize(plain: Callable[[Any], str]) -> Callable[[Any, Any, SerializationInfo], Any]:
    def serialize(value: Any, handler: Any, info: SerializationInfo) -> Any:
        if isinstance(info.context, dict) and info.context.get(SEAL):
            return ring().seal(plain(value))
        return handler(value)
    return serialize


SealedDate = Annotated[date, BeforeValidator(_open), AfterValidator(_mark_date),
                       WrapSerializer(_serialize(date.isoformat))]
SealedText = Annotated[str, BeforeValidator(_open), AfterValidator(_mark_text), WrapSerializer(_serialize(str))]


def _seal_date(value: SealedDateValue) -> str:
    return ring().seal(value.isoformat())


def _seal_text(value: SealedTextValue) -> str:
    return ring().seal(str(value))


# Settings.bson_encoders of every document holding a sealed field (Beanie matches encoders by the value's type).
SEALED_ENCODERS: dict[Any, Callable[[Any], Any]] = {SealedDateValue: _seal_date, SealedTextValue: _seal_text}


def seal_text(value: str) -> str:
    """One value as a repository `$set`s a sealed field."""
    return ring().seal(value)


def to_db(model: Any) -> dict[str, Any]:
    """A sub-document as a repository `$set`s it: JSON types, sealed fields encrypted."""
    dumped: dict[str, Any] = model.model_dump(mode="json", context=TO_DB)
    return dumped


# ---- conversation drafts (plain dicts) ------------------------------------------------------------------
def _map_draft(draft: dict[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """The draft with `change` applied to every sealed answer (a copy; the draft itself is left alone)."""
    out = dict(draft)
    for name in DRAFT_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = change(out[name])
    people = out.get("people")
    if isinstance(people, list):
        changed: list[Any] = []
        for person in people:
            if isinstance(person, dict):
                person = {k: change(v) if k in DRAFT_PERSON_FIELDS and isinstance(v, str) else v
                          for k, v in person.items()}
            changed.append(person)
        out["people"] = changed
    return out


def seal_draft(draft: dict[str, Any]) -> dict[str, Any]:
    """What a conversation stores: the draft with birth dates and documents encrypted."""
    keys = ring()
    return _map_draft(draft, keys.seal) if draft else draft


def open_draft(draft: dict[str, Any]) -> dict[str, Any]:
    """The stored draft readable again (plain answers of an older FlyO pass as they are)."""
    return _map_draft(draft, _open) if draft else draft
