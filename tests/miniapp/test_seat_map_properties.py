"""The seat map Mini App under interleavings nobody scripted (Hypothesis): travellers confirming overlapping seats
from their pages at the same moment, while a stranger takes and frees seats from the chat. Whatever the order:

- no seat is held by two chats;
- a traveller's holds are exactly the seats their draft lists — a lost confirm leaks no hold, a won one moved the
  chat on with all of its seats;
- a 200 means the draft now has exactly the seats asked for; a 409 "taken" names a seat the traveller did not get.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import SeatUnavailable
from models.conversation import Step
from services.seats import chat_holder
from tests.harness import RunningBot
from tests.miniapp.conftest import SeatPage, to_seat_page

EXAMPLES = int(os.environ.get("FLYO_PROPERTY_EXAMPLES", "0"))
USERS = (5301, 5302, 5303)
STRANGER = "chat:5399"
POOL = 6  # the first free seats: few, so confirms collide

confirm = st.tuples(st.just("confirm"), st.sampled_from(range(len(USERS))),
                    st.lists(st.integers(0, POOL - 1), min_size=2, max_size=2, unique=True))
stranger = st.tuples(st.sampled_from(["take", "free"]), st.just(0), st.lists(st.integers(0, POOL - 1), min_size=1,
                                                                             max_size=1))
program = st.lists(st.lists(st.one_of(confirm, confirm, stranger), min_size=1, max_size=4), min_size=1, max_size=4)

_pages: dict[int, list[SeatPage]] = {}


async def _pages_for(bot: RunningBot) -> list[SeatPage]:
    """The three travellers on the same flight's seat step (brought there once per bot, through the chat)."""
    if id(bot) not in _pages:
        _pages.clear()
        _pages[id(bot)] = [await to_seat_page(bot, user, pax=2, days_ahead=12) for user in USERS]
    return _pages[id(bot)]


async def _reset(bot: RunningBot, pages: list[SeatPage], flight_id: str) -> None:
    """Back to the seat step with no seats, for every traveller; the stranger holds nothing."""
    svc = bot.services
    await svc.seats.release_holder(STRANGER)
    for page in pages:
        await svc.seats.release_holder(chat_holder(page.traveller.user_id))
        conv = await svc.conversations.load(page.traveller.user_id, page.traveller.user_id)
        draft = svc.conversations.read_draft(conv)
        assert draft is not None
        for pick in draft.picks:
            pick.seats = [None] * len(pick.seats)
        conv.step = Step.SEATS
        svc.conversations.keep_draft(conv, draft)
        await svc.conversations.save(conv)


async def _check(bot: RunningBot, pages: list[SeatPage], flight_id: str) -> None:
    svc = bot.services
    holders: dict[str, set[str]] = {}
    for page in pages:
        state = await svc.seats.taken(flight_id, chat_holder(page.traveller.user_id))
        holders[chat_holder(page.traveller.user_id)] = {seat for seat, who in state.items() if who == "mine"}
        conv = await svc.conversations.load(page.traveller.user_id, page.traveller.user_id)
        draft = svc.conversations.read_draft(conv)
        assert draft is not None
        listed = {seat for seat in draft.picks[0].seats if seat}
        assert holders[chat_holder(page.traveller.user_id)] == listed, (page.traveller.user_id, conv.step)
        if conv.step == Step.PAX:
            assert all(draft.picks[0].seats)
    seen: dict[str, str] = {}
    for holder, seats in holders.items():
        for seat in seats:
            assert seat not in seen, f"{seat} held by {seen.get(seat)} and {holder}"
            seen[seat] = holder


@settings(max_examples=EXAMPLES or 20, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=not EXAMPLES)
@given(groups=program)
async def test_confirms_from_many_pages_never_share_or_leak_a_seat(app_bot: RunningBot,
                                                                  groups: list[list[Any]]) -> None:
    pages = await _pages_for(app_bot)
    conv = await app_bot.services.conversations.load(pages[0].traveller.user_id, pages[0].traveller.user_id)
    flight_id = conv.draft["picks"][0]["flight_id"]
    await _reset(app_bot, pages, flight_id)
    status, view = await pages[0].state()
    assert status == 200
    pool = [seat[0] for row in view["segments"][0]["rows"] for seat in row["seats"] if seat[2] == "free"][:POOL]

    async def run(op: Any) -> None:
        kind, who, picks = op
        seats = [pool[i] for i in picks]
        if kind == "take":
            with contextlib.suppress(SeatUnavailable):  # a traveller has it: the stranger just doesn't get it
                await app_bot.services.seats.hold(flight_id, seats[0], STRANGER, "economy")
            return
        if kind == "free":
            await app_bot.services.seats.release(flight_id, seats[0], STRANGER)
            return
        page = pages[who]
        status, answer = await page.confirm([seats])
        assert status in (200, 409), answer
        if status == 200:  # once moved on, any other confirm of this chat is refused: the draft stays as won
            conv = await app_bot.services.conversations.load(page.traveller.user_id, page.traveller.user_id)
            assert conv.step == Step.PAX and conv.draft["picks"][0]["seats"] == seats
        elif answer["error"] == "taken":
            mine = await app_bot.services.seats.taken(flight_id, chat_holder(page.traveller.user_id))
            assert all(mine.get(t["seat"]) != "mine" or t["seat"] in seats for t in answer["taken"])
        else:
            assert answer["error"] == "stale"  # already moved on with other seats

    for group in groups:
        await asyncio.gather(*(run(op) for op in group))
        await _check(app_bot, pages, flight_id)
