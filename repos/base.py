"""Typed access to a Beanie document's PyMongo collection, for the conditional updates Beanie can't express."""

from __future__ import annotations

from typing import Any

from beanie import Document, PydanticObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.collection import AsyncCollection


def collection(model: type[Document]) -> AsyncCollection[dict[str, Any]]:
    found: AsyncCollection[dict[str, Any]] = model.get_pymongo_collection()
    return found


def object_id(raw: object) -> PydanticObjectId | None:
    """The ObjectId `raw` spells, or None for a malformed one (ids also come from Stripe and buttons)."""
    try:
        return PydanticObjectId(str(raw))
    except (InvalidId, TypeError, ValueError):
        return None
