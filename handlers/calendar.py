"""The month calendar of the date questions (the outbound's and the return's), as an inline keyboard."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from telegram import InlineKeyboardMarkup

from core.formatting import month_year
from core.i18n import _
from handlers.turn import Turn


def calendar_keyboard(turn: Turn, month: date, today: date, last: date, *, pick: str = "day",
                      turn_page: str = "cal") -> InlineKeyboardMarkup:
    """A month of days from `today` to `last` (weeks already over left out); `pick` is the day buttons' action,
    `turn_page` the « » one."""
    prev_month = (month - timedelta(days=1)).replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    nav = [
        turn.button("«", turn_page, prev_month.strftime("%Y-%m")) if prev_month >= today.replace(day=1)
        else turn.button(" ", "nop"),
        turn.button(month_year(month), "nop"),
        turn.button("»", turn_page, next_month.strftime("%Y-%m")) if next_month <= last
        else turn.button(" ", "nop"),
    ]
    weekdays = (_("Mo"), _("Tu"), _("We"), _("Th"), _("Fr"), _("Sa"), _("Su"))
    rows = [nav, [turn.button(d, "nop") for d in weekdays]]
    for week in calendar.Calendar().monthdatescalendar(month.year, month.month):
        if week[-1] < today:
            continue  # a week that is over: nothing in it can be picked, so it isn't drawn
        row = []
        for day in week:
            if day.month != month.month or day < today or day > last:
                row.append(turn.button("·", "nop"))
            else:
                row.append(turn.button(str(day.day), pick, day.strftime("%Y%m%d")))
        rows.append(row)
    return InlineKeyboardMarkup(rows)
