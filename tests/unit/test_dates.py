"""Travel dates as a traveller types them, read on a fixed "today" (Friday 20 November 2026)."""

from __future__ import annotations

from datetime import date

import pytest

from services.dates import BadDate, ambiguity, check_travel_date, parse_date, year_implied

TODAY = date(2026, 11, 20)  # a Friday
NEW_YEARS_EVE = date(2026, 12, 31)  # a Thursday: day-month dates without a year roll into 2027

# (typed, today, the date the traveller gets)
PARSED: list[tuple[str, date, date]] = [
    # ISO
    ("2026-12-15", TODAY, date(2026, 12, 15)),
    ("2027-1-5", TODAY, date(2027, 1, 5)),
    ("  2026-12-15  ", TODAY, date(2026, 12, 15)),
    # day/month, with / or . and an optional year
    ("15/12", TODAY, date(2026, 12, 15)),
    ("15.12", TODAY, date(2026, 12, 15)),
    ("5/1", TODAY, date(2027, 1, 5)),  # 5 January is past this year: the next one
    ("15/12/2027", TODAY, date(2027, 12, 15)),
    ("15.12.27", TODAY, date(2027, 12, 15)),  # a two-digit year is this century
    # day and month name, either order, ordinal suffixes, full or short names, any case, a trailing dot
    ("15 Dec", TODAY, date(2026, 12, 15)),
    ("15 december", TODAY, date(2026, 12, 15)),
    ("15 Decem", TODAY, date(2026, 12, 15)),  # any beginning of the name from three letters
    ("Sept 3", TODAY, date(2027, 9, 3)),
    ("15th Dec", TODAY, date(2026, 12, 15)),
    ("1st Dec.", TODAY, date(2026, 12, 1)),
    ("Dec 15", TODAY, date(2026, 12, 15)),
    ("December 15, 2027", TODAY, date(2027, 12, 15)),
    ("15 DEC 2027", TODAY, date(2027, 12, 15)),
    ("20 Nov", TODAY, TODAY),  # today itself is not "past"
    # relative words
    ("today", TODAY, TODAY),
    ("tonight", TODAY, TODAY),
    ("tomorrow", TODAY, date(2026, 11, 21)),
    ("Tomorrow.", TODAY, date(2026, 11, 21)),
    ("tomorrow", NEW_YEARS_EVE, date(2027, 1, 1)),
    # weekday names: the next one, never today (on a Friday, "friday" is a week away)
    ("monday", TODAY, date(2026, 11, 23)),
    ("Sat", TODAY, date(2026, 11, 21)),
    ("thurs", TODAY, date(2026, 11, 26)),
    ("friday", TODAY, date(2026, 11, 27)),
    ("friday", NEW_YEARS_EVE, date(2027, 1, 1)),
    # year rollover: a day-month already past this year means next year's
    ("2 Jan", NEW_YEARS_EVE, date(2027, 1, 2)),
    ("02/01", NEW_YEARS_EVE, date(2027, 1, 2)),
    ("Jan 2", NEW_YEARS_EVE, date(2027, 1, 2)),
    ("30 Dec", NEW_YEARS_EVE, date(2027, 12, 30)),
    ("31/12", NEW_YEARS_EVE, NEW_YEARS_EVE),
    ("29 Feb", date(2027, 3, 1), date(2028, 2, 29)),  # the next 29 February is in a leap year
    # issue #15: relative days in English
    ("next friday", TODAY, date(2026, 11, 27)),  # as "friday": the next one
    ("Next Monday", TODAY, date(2026, 11, 23)),
    ("in two weeks", TODAY, date(2026, 12, 4)),
    ("in a week", TODAY, date(2026, 11, 27)),
    ("in 3 days", TODAY, date(2026, 11, 23)),
    ("in 1 day", TODAY, date(2026, 11, 21)),
    ("in twelve days", NEW_YEARS_EVE, date(2027, 1, 12)),
    # month first only when the first number can't be the month of a day-first date
    ("12/25", TODAY, date(2026, 12, 25)),
    ("1/20", TODAY, date(2027, 1, 20)),
    ("12/15/2026", TODAY, date(2026, 12, 15)),
    ("05/06", TODAY, date(2027, 6, 5)),  # ambiguous: day first (and `ambiguity` says so)
]


@pytest.mark.parametrize(("typed", "today", "expected"), PARSED, ids=[f"{t.strip()}@{d}" for t, d, _ in PARSED])
def test_a_typed_date_is_understood(typed: str, today: date, expected: date) -> None:
    assert parse_date(typed, today) == expected


# (typed, what the traveller is told: a fragment of the reply)
REFUSED: list[tuple[str, str]] = [
    ("", "couldn't read"),
    ("soon", "couldn't read"),
    ("next week", "couldn't read"),
    ("15 Foo", "couldn't read"),
    ("15 Decoration", "couldn't read"),  # starts like "Dec" but is no month
    ("Marsh 3", "couldn't read"),
    ("15 Junior", "couldn't read"),
    ("15-12", "couldn't read"),
    ("13/15/2026", "not a date in the calendar"),  # neither order is a date
    ("next week", "couldn't read"),
    ("next 15/12", "couldn't read"),
    ("in two months", "couldn't read"),
    ("in many days", "couldn't read"),
    ("32/12", "not a date in the calendar"),
    ("13/13", "not a date in the calendar"),
    ("31/04", "not a date in the calendar"),
    ("2026-02-30", "not a date in the calendar"),
    ("2026-13-01", "not a date in the calendar"),
    ("31 Nov", "not a date in the calendar"),
    ("29 Feb", "not a date in the calendar"),  # 2026 and 2027 have none
    ("0 Dec", "not a date in the calendar"),
]


@pytest.mark.parametrize(("typed", "told"), REFUSED, ids=[t or "blank" for t, _ in REFUSED])
def test_a_bad_date_is_refused_with_the_reason(typed: str, told: str) -> None:
    with pytest.raises(BadDate) as refused:
        parse_date(typed, TODAY)
    assert told in str(refused.value)


def test_the_refusal_suggests_formats_that_work() -> None:
    with pytest.raises(BadDate, match=r"Try 2026-12-15, 15/12, 15 Dec or tomorrow"):
        parse_date("someday", TODAY)


LAST = date(2027, 11, 19)  # the last day on sale

# (day, what the traveller is told, or None when it can be booked)
TRAVEL_DAYS: list[tuple[date, str | None]] = [
    (TODAY, None),
    (date(2026, 12, 15), None),
    (LAST, None),
    (date(2026, 11, 19), "Thu 19 Nov 2026 is in the past"),
    (date(2025, 12, 15), "is in the past"),
    (date(2027, 11, 20), "I can only book up to Fri 19 Nov 2027"),
]


@pytest.mark.parametrize(("day", "told"), TRAVEL_DAYS, ids=[str(d) for d, _ in TRAVEL_DAYS])
def test_only_days_on_sale_can_be_booked(day: date, told: str | None) -> None:
    if told is None:
        check_travel_date(day, TODAY, LAST)
        return
    with pytest.raises(BadDate) as refused:
        check_travel_date(day, TODAY, LAST)
    assert told in str(refused.value)


def test_an_explicit_past_date_parses_and_is_then_refused() -> None:
    day = parse_date("2026-11-01", TODAY)  # an explicit year is taken as typed…
    assert day == date(2026, 11, 1)
    with pytest.raises(BadDate, match="in the past"):  # …and refused as a travel date
        check_travel_date(day, TODAY, LAST)


@pytest.mark.parametrize("typed", ["x" * 4000, "15 " + "Q" * 4000, "31/02 " + "z" * 500])
def test_a_long_bad_date_is_quoted_short(typed: str) -> None:
    with pytest.raises(BadDate) as refused:  # issue #12: a reply never echoes a whole 4 KB message
        parse_date(typed, TODAY)
    quoted = str(refused.value).split("“")[1].split("”")[0]
    assert len(quoted) <= 61 and quoted.endswith("…")


@pytest.mark.parametrize(("typed", "implied"), [
    ("15 Dec", True), ("Dec 15", True), ("15th december", True), ("sept 3rd", True), ("15/12", True),
    ("15.12", True), ("15 Dec 2026", False), ("Dec 15 2026", False), ("15/12/2026", False), ("15.12.26", False),
    ("2026-12-15", False), ("tomorrow", False), ("today", False), ("friday", False), ("15 Decoration", False),
    ("someday", False),
])
def test_a_day_month_without_a_year_is_told_apart(typed: str, implied: bool) -> None:
    """A return date whose year was implied may be rolled to the next year; an explicit year is kept."""
    assert year_implied(typed) is implied


@pytest.mark.parametrize(("typed", "told"), [
    ("05/06", "“05/06” read as Sat 05 Jun 2027; type Thu 06 May 2027 as 2027-05-06 if you meant that."),
    ("5.6.2027", "“5.6.2027” read as Sat 05 Jun 2027; type Thu 06 May 2027 as 2027-05-06 if you meant that."),
    ("01/12", "“01/12” read as Tue 01 Dec 2026; type Tue 12 Jan 2027 as 2027-01-12"),
])
def test_an_ambiguous_day_month_says_how_it_was_read(typed: str, told: str) -> None:
    assert told in (ambiguity(typed, parse_date(typed, TODAY), TODAY) or "")


@pytest.mark.parametrize("typed", ["15/12", "12/25", "06/06", "15 Dec", "2026-05-06", "tomorrow", "x" * 4000])
def test_an_unambiguous_date_has_no_note(typed: str) -> None:
    assert ambiguity(typed, TODAY, TODAY) is None
