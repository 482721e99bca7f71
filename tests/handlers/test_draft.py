"""Conversations stored by an older FlyO: the draft is read into `Draft` once per update.

Unknown keys are ignored and missing ones take their defaults; a draft whose values cannot be read resets the
chat to idle with one polite message (nothing booked or charged), instead of a crash.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.database import Database
from handlers.router import LOST_TRACK
from models import SeatHold
from models.conversation import Conversation, Draft, Step
from tests.flows import travel_day
from tests.harness import RunningBot

LOST = "lost track of your search"


async def _store(database: Database, chat_id: int, step: str, draft: dict[str, Any], flow: str = "ab12") -> None:
    """A conversation document written the way an older version wrote it (no Beanie in between)."""
    await database.db["conversations"].insert_one({
        "chat_id": chat_id, "user_id": chat_id, "step": step, "flow": flow, "rev": 7, "draft": draft,
        "updated_ms": 0,
    })


async def _stored(chat_id: int) -> Conversation:
    conversation = await Conversation.find_one(Conversation.chat_id == chat_id)
    assert conversation is not None
    return conversation


def _route(day: str) -> dict[str, Any]:
    return {"origin": ["LHR"], "origin_label": "London LHR", "destination": ["JFK"],
            "destination_label": "New York JFK", "date": day}


async def test_an_old_draft_with_unknown_and_missing_keys_continues(bot: RunningBot, inventory_db: Database) -> None:
    day = travel_day(bot.clock).isoformat()
    await _store(inventory_db, 6101, "ask_passengers", {**_route(day), "legacy_flag": True, "x": {"y": 1}})
    t = bot.telegram.traveller(6101)
    await t.send("2")
    results = await t.wait_for("tap a fare")
    assert "London LHR → New York JFK" in results.plain_text()
    assert "2 passengers" in results.plain_text()
    conversation = await _stored(6101)
    assert conversation.step == Step.RESULTS and conversation.flow == "ab12"  # the old buttons' flow still holds
    assert conversation.draft["date"] == day and conversation.draft["pax"] == 2  # the same document shape
    assert "legacy_flag" not in conversation.draft
    await t.press("By price")  # a button of the results shown from the old draft (sort and page were missing)
    await t.wait_for(lambda m: m.edited and any("By time" in label for label in m.button_labels()))


async def test_an_old_draft_with_answered_passengers_keeps_skipped_answers(bot: RunningBot,
                                                                           inventory_db: Database) -> None:
    """`phone: null` (skipped) is an answer; a missing `doc` is the question still to ask."""
    day = travel_day(bot.clock).isoformat()
    draft = {**_route(day), "pax": 1, "flight_id": "f", "cabin": "economy", "seats": ["12A"], "fare": 100,
             "currency": "EUR", "pi": 0, "field": "doc",
             "people": [{"name": "Ada Lovelace", "dob": "1990-01-02", "email": "ada@example.com", "phone": None}]}
    await _store(inventory_db, 6102, "pax", draft)
    t = bot.telegram.traveller(6102)
    await t.send("/start")  # picks the booking up where it was: the one question not answered yet
    await t.wait_for("Passport or ID number of Ada Lovelace")
    assert (await _stored(6102)).draft["people"] == draft["people"]


@pytest.mark.parametrize(("step", "draft"), [
    ("ask_passengers", {"passengers": "many", "pax": "many"}),
    ("seats", {"flight_id": "f", "cabin": "economy", "seats": "12A"}),
    ("results", {"date": "next tuesday", "origin": "LHR"}),
    ("pax", {"people": [{"name": ["Ada"]}], "pax": 1}),
])
async def test_an_unreadable_draft_resets_politely(bot: RunningBot, inventory_db: Database, step: str,
                                                   draft: dict[str, Any]) -> None:
    await _store(inventory_db, 6103, step, draft)
    t = bot.telegram.traveller(6103)
    await t.send("2")
    reply = await t.wait_for(LOST)
    assert reply.plain_text() == LOST_TRACK
    conversation = await _stored(6103)
    assert conversation.step == Step.IDLE and conversation.draft == {} and conversation.flow != "ab12"
    await t.assert_no_message()  # one message, nothing else
    await t.send("/search LHR JFK " + travel_day(bot.clock).isoformat() + " 1")
    await t.wait_for("tap a fare")  # and the traveller can start again at once


async def test_a_button_on_an_unreadable_draft_is_answered_and_resets(bot: RunningBot,
                                                                      inventory_db: Database) -> None:
    t = bot.telegram.traveller(6104)
    await t.send("/start")
    greeting = await t.wait_for("FlyO")
    conversation = await _stored(6104)
    await inventory_db.db["conversations"].update_one(  # as another process saves: the revision moves on
        {"chat_id": 6104}, {"$set": {"step": "seats", "draft": {"seats": [1, 2], "seat_page": "first"}},
                            "$inc": {"rev": 1}})
    await t.press_data(f"{conversation.flow}:s:12A", greeting.message_id)
    await t.wait_for(LOST)
    await bot.telegram.wait_until_callbacks_answered()
    assert (await _stored(6104)).step == Step.IDLE
    assert await SeatHold.find(SeatHold.holder == "chat:6104").count() == 0


async def test_an_unknown_step_starts_over_instead_of_failing() -> None:
    conversation = Conversation.model_validate({"chat_id": 1, "user_id": 1, "step": "upsell", "draft": {}})
    assert conversation.step == Step.IDLE


def test_the_draft_round_trips_to_the_same_dict() -> None:
    stored = {"origin": ["LHR"], "date": "2026-12-15", "pax": 2, "_counted_search": "x", "trip": "return",
              "return_date": "2026-12-22", "people": [{"name": "Ada", "phone": None}],
              "picks": [{"flight_id": "f", "cabin": "economy", "fare": 100, "currency": "GBP", "leg": 1,
                         "seats": ["1A", None]}]}
    assert Draft.model_validate(stored).dump() == stored


def test_a_one_flight_draft_from_before_itineraries_keeps_its_flight_and_seats() -> None:
    old = {"origin": ["LHR"], "date": "2026-12-15", "pax": 2, "flight_id": "f", "cabin": "economy", "fare": 100,
           "currency": "GBP", "seats": ["1A", None], "new_fare": 120}
    draft = Draft.model_validate(old)
    assert [(p.flight_id, p.cabin, p.fare, p.currency, p.leg, p.seats) for p in draft.picks] == [
        ("f", "economy", 100, "GBP", 0, ["1A", None])]
    assert draft.trip is None and draft.legs_wanted() == 1  # a search from before was one way
