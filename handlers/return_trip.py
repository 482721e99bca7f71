"""Search steps of a return trip: "One way or return?" and the return date (same calendar, never before the
outbound; a week later offered first)."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import InlineKeyboardMarkup

from core.formatting import local_date
from core.i18n import _
from handlers.calendar import calendar_keyboard
from handlers.render import esc
from handlers.trip import (
    back_row,
    bad_return,
    check_return_date,
    last_bookable_day,
    leg_tz,
    next_question,
    travel_day,
)
from handlers.turn import Turn
from models.conversation import Step
from services.dates import BadDate, ambiguity, parse_date

DEFAULT_STAY_DAYS = 7  # the return date offered first: a week after the outbound


# ---- one way or return -------------------------------------------------------------------------------
async def prompt_trip(turn: Turn) -> None:
    turn.say(_("{origin} → {destination}, {day}.\n<b>One way or return?</b>").format(
        origin=esc(turn.draft.origin_label), destination=esc(turn.draft.destination_label),
        day=local_date(travel_day(turn))), InlineKeyboardMarkup([[
            turn.button(_("➡️ One way"), "trip", "one"), turn.button(_("🔁 Return"), "trip", "return")],
            back_row(turn)]))


async def on_trip(turn: Turn, arg: str) -> None:
    d = turn.draft
    d.trip = "return" if arg == "return" else "one"
    if d.trip == "one":
        d.return_date = None
    turn.goto(next_question(turn))


async def on_trip_text(turn: Turn, text: str) -> None:
    """"one way", "return", "round trip" typed instead of tapped."""
    said = text.strip().casefold()
    if said in {_("one way").casefold(), "one way", "one-way", "oneway", "single", "1"}:
        await on_trip(turn, "one")
    elif said in {_("return").casefold(), "return", "round trip", "round-trip", "2"}:
        await on_trip(turn, "return")
    else:
        turn.say(_("Please tap <b>One way</b> or <b>Return</b>."))
        turn.goto(Step.ASK_TRIP)


# ---- the return date ---------------------------------------------------------------------------------
async def prompt_return(turn: Turn) -> None:
    _return_screen(turn, None, edit=turn.redraw)


async def on_return_calendar(turn: Turn, month: str) -> None:
    _return_screen(turn, month, edit=True)


def _return_screen(turn: Turn, month: str | None, *, edit: bool) -> None:
    outbound, last = travel_day(turn), last_bookable_day(turn)
    shown = date.fromisoformat(f"{month}-01") if month else outbound.replace(day=1)
    week_later = min(outbound + timedelta(days=DEFAULT_STAY_DAYS), last)
    keyboard = calendar_keyboard(turn, shown, outbound, last, pick="rday", turn_page="rcal")
    suggested = [turn.button(_("📅 {day} (a week later)").format(day=local_date(week_later)), "rday",
                             week_later.strftime("%Y%m%d"))]
    turn.say(
        _("Outbound {day}. <b>When do you fly back</b> from {destination}?\nTap a day or type it (22 Dec, "
          "2026-12-22).").format(day=local_date(outbound), destination=esc(turn.draft.destination_label)),
        InlineKeyboardMarkup([suggested, *keyboard.inline_keyboard, back_row(turn)]), edit=edit)


async def on_return_text(turn: Turn, text: str) -> None:
    outbound = travel_day(turn)
    day: date | None = None
    today = turn.today(leg_tz(turn, 1))
    try:
        day = parse_date(text, today)
        if day < outbound:
            # "3 Jan" after a 28 Dec outbound is next year's: the same day and month, read from the outbound.
            later = parse_date(text, outbound)
            day = later if (later.month, later.day) == (day.month, day.day) else day
        check_return_date(day, outbound, last_bookable_day(turn))
    except BadDate as exc:
        await bad_return(turn, day, exc)
        return
    if note := ambiguity(text, day, today):  # 05/06 read day-first: say so (issue #15)
        turn.say(esc(note))
    _set_return(turn, day)


async def on_return_pick(turn: Turn, arg: str) -> None:
    try:
        day = date(int(arg[:4]), int(arg[4:6]), int(arg[6:8]))
        check_return_date(day, travel_day(turn), last_bookable_day(turn))
    except (ValueError, BadDate) as exc:
        turn.notice = str(exc) if isinstance(exc, BadDate) else _("That day can't be picked.")
        turn.goto(Step.ASK_RETURN)
        return
    _set_return(turn, day)


def _set_return(turn: Turn, day: date) -> None:
    d = turn.draft
    d.trip, d.return_date, d.page = "return", day, 0
    turn.goto(next_question(turn))
