"""Typed travel dates: 2026-12-15, 15/12, 15.12.2026, 15 Dec, Dec 15, today, tomorrow, weekday names, "next
friday", "in 3 days", "in two weeks", and 12/25 (month first only when the first number can't be the day's:
the second is over 12). An ambiguous 05/06 is read day-first; `ambiguity` says so and how to type the other.

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
NUMBER_WORDS = {w: i for i, w in enumerate(
    ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"], start=1)}
NUMBER_WORDS["a"] = 1  # "in a week"
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
    if raw.startswith("next "):  # "next friday": the next one, as "friday" alone
        raw = raw[5:].strip()
        if not raw.isalpha():
            raise BadDate(_("I couldn't read “{text}” as a date. Try 2026-12-15, 15/12, 15 Dec or tomorrow.").format(
                text=shorten(text)))
    if m := re.fullmatch(r"in\s+(\d{1,3}|[a-z]+)\s+(days?|weeks?)", raw):
        count = int(m[1]) if m[1].isdecimal() else NUMBER_WORDS.get(m[1])
        if count is not None:
            return today + timedelta(days=count * (7 if m[2].startswith("week") else 1))
    if raw in WEEKDAYS or (raw[:3] in [w[:3] for w in WEEKDAYS] and len(raw) <= 9 and raw.isalpha()):
        index = [w[:3] for w in WEEKDAYS].index(raw[:3])
        return today + timedelta(days=(index - today.weekday()) % 7 or 7)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?", raw):
            day, month = int(m[1]), int(m[2])
            if month > 12 >= day:  # 12/25: the first number can't be a day-first date's month… it's the month
                day, month = month, day
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


def ambiguity(text: str, day: date, today: date) -> str | None:
    """For a date typed as 05/06 (either number could be the month), read day-first as `day`: how it was read
    and how to type the other reading ("read as Sat 05 Jun 2027; type Thu 06 May 2027 as 2027-05-06 if you
    meant that"), as a whole sentence. None when the text is not ambiguous."""
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?", text.strip().rstrip("."))
    if m is None:
        return None
    first, second = int(m[1]), int(m[2])
    if first == second or not (1 <= first <= 12 and 1 <= second <= 12):
        return None
    try:
        other = date(day.year, first, second) if m[3] else _next_occurrence(second, first, today)
    except (BadDate, ValueError):
        return None
    return _("“{typed}” read as {day}; type {other_day} as {iso} if you meant that.").format(
        typed=shorten(text), day=local_date(day), other_day=local_date(other), iso=other.isoformat())


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
