"""What the search steps, the results and the seat maps share: the draft's trip (dates, passengers, time zones,
the ways of a return trip) and the keys of the options shown."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.formatting import local_date
from core.i18n import _
from handlers.render import esc
from handlers.turn import Turn
from models.conversation import Step
from services.dates import BadDate


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


def back_row(turn: Turn) -> list[InlineKeyboardButton]:
    """"◀ Back" under a search question: the previous question again, keeping what was answered
    (handlers.flow maps each step's "bk" to the step before it)."""
    return [turn.button(_("◀ Back"), "bk")]


def check_return_date(day: date, outbound: date, last: date) -> None:
    """A return is on or after the outbound day and within the bookable window; else BadDate (said as is)."""
    if day < outbound:
        raise BadDate(_("The return date ({day}) is before the departure date ({outbound}). Please pick a day on "
                        "or after {outbound}.").format(day=local_date(day), outbound=local_date(outbound)))
    if day > last:
        raise BadDate(_("Flights can be booked until {last}. Please pick an earlier return date.").format(
            last=local_date(last)))


def next_question(turn: Turn) -> Step:
    """The first thing the search still needs, or the results."""
    d = turn.draft
    if d.trip is None:
        return Step.ASK_TRIP
    if d.is_return and d.return_date is None:
        return Step.ASK_RETURN
    if d.pax is None:
        return Step.ASK_PASSENGERS
    return Step.RESULTS


async def bad_return(turn: Turn, day: date | None, problem: BadDate) -> None:
    """Say why the return date can't be; beyond the bookable days, offer the last return days with flights."""
    d, last = turn.draft, last_bookable_day(turn)
    if day is None or day <= last or d.date is None:
        turn.say(esc(problem))
        turn.goto(Step.ASK_RETURN)
        return
    nearby = await turn.svc.flights.nearest_dates(d.destination, d.origin, last + timedelta(days=1), d.date, last,
                                                  passengers=d.pax or 1)
    if not nearby:
        turn.say(esc(problem))
        turn.goto(Step.ASK_RETURN)
        return
    turn.say(esc(problem) + "\n" + _("The latest return days with flights:"), InlineKeyboardMarkup(
        [[turn.button(local_date(n), "rday", n.strftime("%Y%m%d")) for n in nearby[:4]]]))
    turn.conv.step = Step.ASK_RETURN  # the buttons (or a typed date) answer it; no calendar under them


# ---- the ways of the trip -------------------------------------------------------------------------------
def leg_route(turn: Turn, leg: int) -> tuple[list[str], list[str], date]:
    """Origins, destinations and day of one way: the outbound, or the return (the same places reversed)."""
    d = turn.draft
    if leg == 0:
        return d.origin, d.destination, travel_day(turn)
    if d.return_date is None:
        raise ValueError("the draft has no return date yet")
    return d.destination, d.origin, d.return_date


def leg_labels(turn: Turn, leg: int) -> tuple[str, str]:
    d = turn.draft
    return (d.origin_label, d.destination_label) if leg == 0 else (d.destination_label, d.origin_label)


def leg_tz(turn: Turn, leg: int) -> str | None:
    """The time zone of the way's departure airport (the return leaves from the destination)."""
    codes = turn.draft.origin if leg == 0 else turn.draft.destination
    airport = turn.svc.airports.get(codes[0]) if codes else None
    return airport.tz if airport else None


# ---- the results' fare buttons ----------------------------------------------------------------------------
def option_key(flight_ids: list[str]) -> str:
    """How the draft remembers an option it showed: a flight id, or a connection's ids joined by "+"."""
    return "+".join(flight_ids)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def pick_arg(key: str, cabin: str) -> str:
    """A fare button's argument: "<flight id>.<cabin initial>" for a direct flight (as before itineraries);
    "c<digest>.<initial>" for a connection, whose two or three ids would not fit Telegram's 64 bytes."""
    ref = key if "+" not in key else "c" + _digest(key)
    return f"{ref}.{cabin[:1]}"


def picked_option(turn: Turn, arg: str) -> tuple[list[str], str] | None:
    """The flight ids and cabin initial of a fare button, if the option is one this chat was shown."""
    ref, _dot, initial = arg.partition(".")
    shown = turn.draft.flight_ids
    if ref.startswith("c") and "+" not in ref:
        key = next((k for k in shown if "+" in k and _digest(k) == ref[1:]), None)
    else:
        key = ref if ref in shown else None
    if key is None or not initial:
        return None
    return key.split("+"), initial
