"""Typed travel dates: 2026-12-15, 15/12, 15.12.2026, 15 Dec, Dec 15, today, tomorrow, weekday names, "next
friday", "in 3 days", "in two weeks", and 12/25 (month first only when the first number can't be the day's:
the second is over 12). An ambiguous 05/06 is read day-first; `ambiguity` says so and how to type the other.

Spanish and German too, in any locale (issue #20; the words are services/date_words.py's): 15 dic, 15 de
diciembre (de 2026), 15. Dez., 15. Dezember 2026, 15.12., hoy, mañana, pasado mañana, heute, morgen, übermorgen,
viernes, el (próximo) viernes, el viernes que viene, (am) Freitag, nächsten / kommenden Freitag, en 3 días,
en una semana, in drei Tagen, in einer Woche. Case and accents don't matter (mañana, manana, NFC or NFD). Month
first ("Dec 15") is English only; a Spanish or German month is its whole name or a listed abbreviation.

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
from services.date_words import DAY_WORDS, WEEKDAYS, english_month, fold, in_days, month_of, weekday_of

QUOTE_CHARS = 60  # replies quote at most this much of what was typed (issue #12: never echo a whole 4 KB message)
MAX_DATE_CHARS = 40  # "el próximo miércoles que viene" is 30: anything longer is no date, refused unread
# A day, then a month: "15 Dec", "15th December 2027", "15. Dez. 2026", "15.Dez", "15 de diciembre de 2026".
DAY_MONTH = r"(\d{1,2})(?:(?:st|nd|rd|th)?\s+|\.\s*)(?:de\s+)?([a-z]+)\.?(?:\s+(?:de\s+)?(\d{4}))?"
# A month, then a day (English only): "Dec 15", "December 15th, 2027".
MONTH_DAY = r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{4}))?"


class BadDate(FlyOError):
    pass


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """What a reply may quote of the traveller's text: stripped, at most `limit` characters, then "…"."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _next_occurrence(day: int, month: int, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise BadDate(_("{day:02d}/{month:02d} is not a date in the calendar.").format(day=day, month=month))


def _cant_read(text: str) -> BadDate:
    return BadDate(_("I couldn't read “{text}” as a date. Try 2026-12-15, 15/12, 15 Dec or tomorrow.").format(
        text=shorten(text)))


def _folded(text: str) -> str | None:
    """The text as the parser reads it (`fold`ed, without a trailing dot); None when too long to be a date."""
    stripped = text.strip()
    return None if len(stripped) > MAX_DATE_CHARS else fold(stripped).rstrip(".")


def parse_date(text: str, today: date) -> date:
    """Understand the date as a traveller types it; the year defaults to the next occurrence."""
    raw = _folded(text)
    if raw is None:
        raise _cant_read(text)
    if raw in DAY_WORDS:  # today, mañana, übermorgen…
        return today + timedelta(days=DAY_WORDS[raw])
    if raw.startswith("next "):  # "next friday": the next one, as "friday" alone
        raw = raw[5:].strip()
        if not raw.isalpha():
            raise _cant_read(text)
    if (days := in_days(raw.split())) is not None:  # "in 3 days", "en tres días", "in einer Woche"
        return today + timedelta(days=days)
    if raw in WEEKDAYS or (raw[:3] in [w[:3] for w in WEEKDAYS] and len(raw) <= 9 and raw.isalpha()):
        index = [w[:3] for w in WEEKDAYS].index(raw[:3])
        return today + timedelta(days=(index - today.weekday()) % 7 or 7)
    if (weekday := weekday_of(raw.split())) is not None:  # "el próximo viernes", "am Freitag": as "friday"
        return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
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
        if (m := re.fullmatch(DAY_MONTH, raw)) and (named := month_of(m[2])):
            return date(int(m[3]), named, int(m[1])) if m[3] else _next_occurrence(int(m[1]), named, today)
        if (m := re.fullmatch(MONTH_DAY, raw)) and (named := english_month(m[1])):
            return date(int(m[3]), named, int(m[2])) if m[3] else _next_occurrence(int(m[2]), named, today)
    except ValueError:
        raise BadDate(_("“{text}” is not a date in the calendar.").format(text=shorten(text))) from None
    raise _cant_read(text)


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
    """True when `text` is a day and month without a year (15 Dec, Dec 15, 15/12, 15 dic, 15. Dez.): `parse_date`
    chose the year, as the next occurrence. False for dates with a year and for relative days (today, mañana,
    weekdays)."""
    raw = _folded(text)
    if raw is None:
        return False
    if re.fullmatch(r"\d{1,2}[/.]\d{1,2}", raw):
        return True
    if m := re.fullmatch(DAY_MONTH, raw):
        return m[3] is None and month_of(m[2]) is not None
    if m := re.fullmatch(MONTH_DAY, raw):
        return m[3] is None and english_month(m[1]) is not None
    return False


def check_travel_date(day: date, today: date, last: date) -> None:
    if day < today:
        raise BadDate(_("{day} is in the past. Pick today or a later date.").format(day=local_date(day)))
    if day > last:
        raise BadDate(_("I can only book up to {last}; {day} is not on sale yet.").format(
            last=local_date(last), day=local_date(day)))
