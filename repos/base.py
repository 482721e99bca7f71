"""Typed access to a Beanie document's PyMongo collection, for the conditional updates Beanie can't express."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beanie import Document, PydanticObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

DUPLICATE_KEY = 11000


def collection(model: type[Document]) -> AsyncCollection[dict[str, Any]]:
    found: AsyncCollection[dict[str, Any]] = model.get_pymongo_collection()
    return found


def object_id(raw: object) -> PydanticObjectId | None:
    """The ObjectId `raw` spells, or None for a malformed one (ids also come from Stripe and buttons)."""
    try:
        return PydanticObjectId(str(raw))
    except (InvalidId, TypeError, ValueError):
        return None


async def insert_each_once(documents: Sequence[Document]) -> list[int]:
    """Insert documents of one model in one write (unordered: each is tried); returns the indexes of those a unique
    index refused (they exist already). Any other write error propagates."""
    if not documents:
        return []
    if len(documents) == 1:
        try:
            await documents[0].insert()
        except DuplicateKeyError:
            return [0]
        return []
    try:
        await type(documents[0]).insert_many(list(documents), ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors) or exc.details.get("writeConcernErrors"):
            raise
        return sorted(int(error["index"]) for error in errors)
    return []
