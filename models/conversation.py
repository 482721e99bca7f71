"""Per-chat conversation state, read on every update so any process can continue any chat."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymongo import ASCENDING, IndexModel


class Step(StrEnum):
    """Where a chat is in the booking flow. The values are stored in MongoDB: never rename them."""

    IDLE = "idle"
    ASK_ORIGIN = "ask_origin"
    ASK_DESTINATION = "ask_destination"
    ASK_DATE = "ask_date"
    ASK_PASSENGERS = "ask_passengers"
    RESULTS = "results"
    SEATS = "seats"
    PAX = "pax"
    REVIEW = "review"
    BOOKED = "booked"


class Person(BaseModel):
    """One passenger's answers so far. A field is *answered* once set, even to None (a skipped phone or
    document): only answered fields are stored, so "not asked yet" and "skipped" stay apart."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    dob: str | None = None  # ISO date
    email: str | None = None
    phone: str | None = None
    doc: str | None = None

    def answered(self, field: str) -> bool:
        return field in self.model_fields_set


class Draft(BaseModel):
    """The booking being put together, stored as the plain dict `Conversation.draft`.

    Unknown keys (of an older version) are ignored and missing ones take their defaults; only what was set
    is written back (`dump`), so a document keeps the shape it had.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    # search
    origin: list[str] = Field(default_factory=list)  # IATA codes (several: "any London airport")
    origin_label: str = ""
    destination: list[str] = Field(default_factory=list)
    destination_label: str = ""
    date: dt.date | None = None
    pax: int | None = Field(default=None, ge=1)
    # results
    sort: Literal["time", "price"] = "time"
    page: int = 0
    flight_ids: list[str] = Field(default_factory=list)  # the flights this chat was shown
    counted_search: str | None = Field(default=None, alias="_counted_search")  # services.stats
    # seats
    flight_id: str | None = None
    cabin: str | None = None
    seats: list[str | None] = Field(default_factory=list)  # one per passenger; None: not picked yet
    seat_page: int = 0
    fare: int | None = None  # per passenger, minor units
    currency: str | None = None
    new_fare: int | None = None  # a re-priced fare waiting for the traveller's consent
    new_currency: str | None = None
    # passengers
    people: list[Person] = Field(default_factory=list)
    pi: int = 0  # the passenger being asked
    field: str | None = None  # the question being asked (name, dob, email, phone, doc)
    asked_phone: bool = False  # the phone question's reply keyboard is showing
    # booked
    booking_id: str | None = None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class Conversation(Document):
    """Where a chat is in the booking flow.

    `flow` changes on every new search; buttons carry it, so a tap on an old message is recognised
    as stale instead of acting on the wrong draft. `rev` increments on every save (optimistic lock).
    `draft` is a `Draft` as a plain dict (services.conversations reads and writes it).
    """

    chat_id: int
    user_id: int
    step: Step = Step.IDLE
    flow: str = ""
    rev: int = 0
    draft: dict[str, Any] = {}
    updated_ms: int = 0

    @field_validator("step", mode="before")
    @classmethod
    def _known_step(cls, value: object) -> object:
        """A step this version doesn't know (a newer one's) starts over rather than failing the load."""
        return value if value in Step._value2member_map_ else Step.IDLE

    class Settings:
        name = "conversations"
        indexes = [IndexModel([("chat_id", ASCENDING)], unique=True), IndexModel([("updated_ms", ASCENDING)])]
