"""Typed travel dates: 2026-12-15, 15/12, 15.12.2026, 15 Dec, Dec 15, today, tomorrow, weekday names.

Hand-written on purpose (issue #13): dateparser and dateutil guess (dateutil reads "15/12" and "12/15" alike,
both accept fragments of any sentence) and cost unbounded work on long input; travellers get a fixed, documented
set of forms, day-first, with a clear refusal and bounded cost (issue #12). Shown dates go through
core/formatting.py (Babel), so only the parsing is ours.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from core.errors import FlyOError
from core.formatting import local_date
from core.i18n import _

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
QUOTE_CHARS = 60  # replies quote at most this much of what was typed (issue #12: never echo a whole 4 KB message)


class BadDate(FlyOError):
    pass


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """What a reply may quote of the traveller's text: stripped, at most `limit` characters, then "…"."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december"]


def _month(word: str) -> int | None:
    """"dec", "decem", "December", "sept" → the month; "Decoration" or "marsh" → None (a prefix of the name only)."""
    text = word.casefold()
    if len(text) < 3:
        return None
    month = MONTHS.get(text[:3])
    if month is None:
        return None
    return month if MONTH_NAMES[month - 1].startswith(text) else None


def _next_occurrence(day: int, month: int, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise BadDate(_("{day:02d}/{month:02d} is not a date in the calendar.").format(day=day, month=month))


def parse_date(text: str, today: date) -> date:
    """Understand the date as a traveller types it; the year defaults to the next occurrence."""
    raw = text.strip().casefold().rstrip(".")
    if raw in ("today", "tonight"):
        return today
    if raw == "tomorrow":
        return today + timedelta(days=1)
    if raw in WEEKDAYS or (raw[:3] in [w[:3] for w in WEEKDAYS] and len(raw) <= 9 and raw.isalpha()):
        index = [w[:3] for w in WEEKDAYS].index(raw[:3])
        return today + timedelta(days=(index - today.weekday()) % 7 or 7)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?", raw):
            day, month = int(m[1]), int(m[2])
            if m[3]:
                year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
                return date(year, month, day)
            return _next_occurrence(day, month, today)
        if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?", raw):
            named = _month(m[2])
            if named:
                return date(int(m[3]), named, int(m[1])) if m[3] else _next_occurrence(int(m[1]), named, today)
        if m := re.fullmatch(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{4}))?", raw):
            named = _month(m[1])
            if named:
                return date(int(m[3]), named, int(m[2])) if m[3] else _next_occurrence(int(m[2]), named, today)
    except ValueError:
        raise BadDate(_("“{text}” is not a date in the calendar.").format(text=shorten(text))) from None
    raise BadDate(_("I couldn't read “{text}” as a date. Try 2026-12-15, 15/12, 15 Dec or tomorrow.").format(
        text=shorten(text)))


def year_implied(text: str) -> bool:
    """True when `text` is a day and month without a year (15 Dec, Dec 15, 15/12): `parse_date` chose the year,
    as the next occurrence. False for dates with a year and for relative days (today, tomorrow, weekdays)."""
    raw = text.strip().casefold().rstrip(".")
    if re.fullmatch(r"\d{1,2}[/.]\d{1,2}", raw):
        return True
    if m := re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)?\s+([a-z]+)\.?", raw):
        return _month(m[1]) is not None
    if m := re.fullmatch(r"([a-z]+)\.?\s+\d{1,2}(?:st|nd|rd|th)?,?", raw):
        return _month(m[1]) is not None
    return False


def check_travel_date(day: date, today: date, last: date) -> None:
    if day < today:
        raise BadDate(_("{day} is in the past. Pick today or a later date.").format(day=local_date(day)))
    if day > last:
        raise BadDate(_("I can only book up to {last}; {day} is not on sale yet.").format(
            last=local_date(last), day=local_date(day)))
