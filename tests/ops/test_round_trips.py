"""Database round trips per step, counted by PyMongo's command monitoring (core.database.RoundTrips) for every
update, webhook request and inbox event, and held to budgets (issue #16) — one passenger, one flight.

Each budget test asserts what one step costs and names the commands when it is over, so a change that adds a
round trip to a hot path fails here with the list. `ROUND_TRIP_TABLE=path pytest tests/ops/test_round_trips.py`
writes the measured table (bench/RESULTS.md quotes it)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from models import Booking
from services.metrics import RECENT_ROUND_TRIPS, round_trip_mark
from tests.flows import book_to_review, eventually, pick_first_fare, search_one_line, travel_day
from tests.paying import PayingBot

MEASURED: dict[str, tuple[int, int, list[str]]] = {}  # path → (measured, budget, commands)


def _since(key: int | str, mark: int, path: str | None = None) -> list[list[str]]:
    """The commands of the units of work of `key` recorded from sequence number `mark` on."""
    return [commands for seq, k, p, commands in list(RECENT_ROUND_TRIPS)
            if seq >= mark and k == key and (path is None or p == path)]


async def _one(key: int | str, action: Callable[[], Awaitable[Any]], path: str | None = None) -> list[str]:
    """The commands of the one unit of work `action` causes (an update of chat `key`, or an event type's)."""
    mark = round_trip_mark()
    await action()

    async def counted() -> bool:  # recorded when the unit's turn ended, just after its reply was sent
        return bool(_since(key, mark, path))
    await eventually(counted)
    [commands] = _since(key, mark, path)[-1:]
    return commands


def _within(name: str, commands: list[str], budget: int) -> None:
    MEASURED[name] = (len(commands), budget, commands)
    assert len(commands) <= budget, f"{name}: {len(commands)} round trips > {budget}: {commands}"


@pytest.fixture(scope="module", autouse=True)
def _table() -> Any:
    yield
    target = os.environ.get("ROUND_TRIP_TABLE")
    if target and MEASURED:
        lines = ["| path | round trips | budget | commands |", "|---|---|---|---|"]
        lines += [f"| {name} | {n} | ≤ {budget} | {', '.join(commands)} |"
                  for name, (n, budget, commands) in MEASURED.items()]
        Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")


async def test_a_typed_answer_costs_at_most_2(bot: Any) -> None:
    t = bot.telegram.traveller(18990)
    await search_one_line(t, "LHR", "JFK", travel_day(bot.clock), 1)
    await pick_first_fare(t)
    await t.press("Pick for me")
    await t.wait_for("All seats picked")
    await t.press("Continue")
    await t.wait_for("Passenger 1 of 1")

    async def name() -> None:
        await t.send("Ada Lovelace")
        await t.wait_for("Date of birth")
    _within("text answer (passenger name)", await _one(18990, name), 2)


async def test_a_stripe_webhook_request_is_one_insert(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(18991)
    await book_to_review(ada, paying.bot.clock)
    await ada.press("Confirm and pay")
    await ada.wait_for("Pay")
    booking = await Booking.find_one(Booking.user_id == 18991)
    assert booking is not None and booking.payment.session_id is not None
    session_id = booking.payment.session_id

    async def post() -> None:
        status, _answer = await paying.post_event(paying.completed_event(session_id))
        assert status == 200
    kind = "checkout.session.completed"
    _within("Stripe webhook request", await _one(kind, post, "stripe_webhook"), 1)
    await ada.wait_for("is confirmed")
