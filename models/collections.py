"""Typed access to a Beanie document's PyMongo collection, for conditional updates Beanie can't express."""

from __future__ import annotations

from typing import Any

from beanie import Document
from pymongo.asynchronous.collection import AsyncCollection


def collection(model: type[Document]) -> AsyncCollection[dict[str, Any]]:
    found: AsyncCollection[dict[str, Any]] = model.get_pymongo_collection()
    return found
