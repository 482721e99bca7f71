"""The airline order of a booking of live (Amadeus) fares: one document per booking, claimed before the call;
one Amadeus order for every live segment of the trip (Create Orders takes up to 6 flight offers at once)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class AirlineOrderStatus(StrEnum):
    PENDING = "pending"  # claimed; the order is being (or will be) created
    CREATED = "created"  # Amadeus made it: order_id and pnr are set
    FAILED = "failed"  # refused, or its outcome unknown: the payment is refunded and the booking cancelled
    CANCELLED = "cancelled"  # the booking was cancelled: the order deleted in Amadeus (or never made)


class AirlineOrder(Document):
    """`calling_ms` is set (conditionally) just before each Create Orders call and cleared when Amadeus
    answered that it made nothing: a row left PENDING with `calling_ms` set has an unknown outcome."""

    booking_id: str
    reference: str
    status: AirlineOrderStatus = AirlineOrderStatus.PENDING
    order_id: str | None = None
    pnr: str | None = None  # the first record locator (rows from before `pnrs` have only this one)
    pnrs: list[str] = Field(default_factory=list)  # every distinct record locator Amadeus returned, in order
    segments: list[int] = Field(default_factory=list)  # the booking's segment indexes ordered; old rows: []
    last_error: str | None = None
    attempts: int = 0  # Create Orders calls made
    calling_ms: int | None = None
    next_attempt_ms: int = 0  # after a transient failure: not before then (the inbox's backoff)
    created_at: datetime
    updated_ms: int

    @property
    def references(self) -> list[str]:
        """The airline PNR(s) to show: `pnrs`, or an old row's single `pnr`."""
        return list(self.pnrs) or ([self.pnr] if self.pnr else [])

    class Settings:
        name = "airline_orders"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("booking_id", ASCENDING)], unique=True),
            IndexModel([("status", ASCENDING)]),
        ]
