"""What the search steps and the results share: reading the draft's trip (date, passengers, origin time zone)."""

from __future__ import annotations

from datetime import date, timedelta

from handlers.turn import Turn


def last_bookable_day(turn: Turn) -> date:
    return turn.svc.last_day or turn.today() + timedelta(days=119)


def travel_day(turn: Turn) -> date:
    if turn.draft.date is None:
        raise ValueError("the draft has no travel date yet")
    return turn.draft.date


def passengers(turn: Turn) -> int:
    if turn.draft.pax is None:
        raise ValueError("the draft has no passenger count yet")
    return turn.draft.pax


def origin_tz(turn: Turn) -> str | None:
    codes = turn.draft.origin
    airport = turn.svc.airports.get(codes[0]) if codes else None
    return airport.tz if airport else None
