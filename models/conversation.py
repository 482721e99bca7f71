"""Per-chat conversation state, read on every update so any process can continue any chat."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pymongo import ASCENDING, IndexModel

from models.sealed import open_draft


class Step(StrEnum):
    """Where a chat is in the booking flow. The values are stored in MongoDB: never rename them."""

    IDLE = "idle"
    ASK_ORIGIN = "ask_origin"
    ASK_DESTINATION = "ask_destination"
    ASK_DATE = "ask_date"
    ASK_TRIP = "ask_trip"  # one way or return
    ASK_RETURN = "ask_return"  # the return date
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
    on_lap: bool | None = None  # an infant: on an adult's lap (True) or in a seat (False); None: not asked
    saved: str | None = None  # the saved traveller (services.travellers) these answers came from

    def answered(self, field: str) -> bool:
        return field in self.model_fields_set


class Pick(BaseModel):
    """One flight chosen for the itinerary (a connection is several picks of one leg), with its seats."""

    model_config = ConfigDict(extra="ignore")

    flight_id: str
    flight_number: str = ""  # for the texts that name the pick
    cabin: str
    fare: int  # per passenger, minor units
    currency: str
    leg: int = 0  # 0 outbound, 1 return (models.booking.Leg)
    seats: list[str | None] = Field(default_factory=list)  # one per passenger; None: not picked yet


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
    date: dt.date | None = None  # the outbound day (origin's local date)
    trip: Literal["one", "return"] | None = None  # None: not asked yet
    return_date: dt.date | None = None
    pax: int | None = Field(default=None, ge=1)
    # results
    leg: int = 0  # the way whose flights are shown: 0 outbound, 1 return
    sort: Literal["time", "price"] = "time"
    page: int = 0
    # The options this chat was shown: a flight id, or flight ids joined by "+" (a connection).
    flight_ids: list[str] = Field(default_factory=list)
    counted_search: str | None = Field(default=None, alias="_counted_search")  # services.stats
    # seats
    picks: list[Pick] = Field(default_factory=list)  # the chosen flights, outbound first
    seg: int = 0  # the pick whose seat map is shown
    seat_page: int = 0
    new_fares: list[int] | None = None  # re-priced fares (one per pick) waiting for the traveller's consent
    new_currency: str | None = None
    # passengers
    people: list[Person] = Field(default_factory=list)
    pi: int = 0  # the passenger being asked
    field: str | None = None  # the question being asked (name, dob, email, phone, doc)
    asked_phone: bool = False  # the phone question's reply keyboard is showing
    # What the name question last read of the user's saved travellers: how many, whether "you" is among them
    # (services.travellers.remember needs no read of its own); None: not read in this booking.
    saved_count: int | None = None
    saved_self: bool = False
    editing: bool = False  # one field asked again from the review: its old value may be kept
    old_answer: str | None = None  # that field's value before (None: it had been skipped)
    # a /search sent while seats are held: kept until the traveller says whether to discard the booking
    pending_search: str | None = None
    # booked
    booking_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_flight_to_picks(cls, data: Any) -> Any:
        """A draft saved before itineraries (one `flight_id`, `cabin`, `fare`, `seats`) keeps its flight."""
        if isinstance(data, dict) and "picks" not in data and data.get("flight_id") and data.get("cabin"):
            pick = {"flight_id": data["flight_id"], "cabin": data["cabin"], "fare": data.get("fare") or 0,
                    "currency": data.get("currency") or "", "seats": data.get("seats") or []}
            data = {**data, "picks": [pick]}
        return data

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    @property
    def is_return(self) -> bool:
        return self.trip == "return"

    def legs_wanted(self) -> int:
        return 2 if self.is_return else 1

    def picks_of(self, leg: int) -> list[Pick]:
        return [p for p in self.picks if p.leg == leg]

    def choose(self, leg: int, picks: list[Pick]) -> None:
        """The flights of one way (a later way's picks go too: they were chosen for the old one)."""
        self.picks = [p for p in self.picks if p.leg < leg] + picks

    def persons(self) -> list[Person]:
        """One Person per passenger (those not asked yet are empty), stored from now on."""
        people = self.people
        while len(people) < (self.pax or 0):
            people.append(Person())
        self.people = people  # assigned, so `dump` stores it even when it was the default list
        return people

    def ask_again(self, index: int, field: str) -> None:
        """Forget one answer of passenger `index` (the others stay), keeping what it was to offer "Keep"."""
        person = self.people[index]
        self.old_answer = getattr(person, field) if person.answered(field) else None
        self.editing = True
        self.people[index] = Person(**{f: getattr(person, f) for f in person.model_fields_set if f != field})

    def seated(self) -> int:
        """Passengers who need a seat: all but the infants on a lap."""
        return (self.pax or 0) - self.lap_infants()

    def lap_infants(self) -> int:
        return sum(1 for p in self.people if p.on_lap)

    def seat_index(self, person: int) -> int:
        """Where the `person`-th passenger's seat is in each pick's `seats` (lap infants have none)."""
        return sum(1 for p in self.people[:person] if not p.on_lap)

    def fare_per_passenger(self) -> int:
        return sum(p.fare for p in self.picks)

    def currency(self) -> str:
        return self.picks[0].currency if self.picks else ""


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
    language: str = ""  # chosen with /language ("en", "es", "de"); "" follows Telegram's language_code
    locale: str = ""  # the language the chat was last answered in: what a sweep's message to it uses
    rev: int = 0
    draft: dict[str, Any] = {}
    updated_ms: int = 0
    # Webhook mode (issue #21): the last Telegram updates this chat's turns applied, and the last turn's replies, so
    # a stored update handled again after its process died is answered again, not applied twice (handlers.replay).
    applied_updates: list[int] = []
    last_turn: dict[str, Any] = {}

    @field_validator("draft", mode="before")
    @classmethod
    def _open_draft(cls, value: object) -> object:
        """Birth dates and documents are stored sealed (repos.conversations seals them): plain in memory."""
        return open_draft(value) if isinstance(value, dict) else value

    @field_validator("step", mode="before")
    @classmethod
    def _known_step(cls, value: object) -> object:
        """A step this version doesn't know (a newer one's) starts over rather than failing the load."""
        return value if value in Step._value2member_map_ else Step.IDLE

    class Settings:
        name = "conversations"
        indexes = [IndexModel([("chat_id", ASCENDING)], unique=True), IndexModel([("updated_ms", ASCENDING)]),
                   IndexModel([("user_id", ASCENDING)])]  # services.travellers forgets from a user's drafts
