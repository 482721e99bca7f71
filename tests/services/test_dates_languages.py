"""Travel dates typed in Spanish and German (issue #20), read in any locale, on a fixed "today" (Saturday
28 November 2026): day and month names, relative days, weekdays; the year is the next occurrence, as in English.
Also through the one-line search (`LHR JFK 15 dic 2`), on the network's real airports."""

from __future__ import annotations

import time
import unicodedata
from datetime import date, timedelta
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.airports import AirportDirectory
from services.dates import BadDate, parse_date, year_implied
from services.inventory.network import network_airports
from services.search_query import SearchQuery, Verdict, parse_search

TODAY = date(2026, 11, 28)  # a Saturday
DEC_15 = date(2026, 12, 15)

ES_ABBREV = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]
ES_FULL = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"]
DE_ABBREV = ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"]
DE_FULL = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"]


def fifteenth(month: int) -> date:
    """The next 15th of `month` from TODAY: December's is this year's, every other month's is next year's."""
    return date(2026 if month == 12 else 2027, month, 15)


# (typed, the date the traveller gets on TODAY)
PARSED: list[tuple[str, date]] = [
    # Spanish: day and month
    ("15 dic", DEC_15),
    ("15 dic.", DEC_15),
    ("15 Dic", DEC_15),
    ("15 de diciembre", DEC_15),
    ("15 DE DICIEMBRE", DEC_15),
    ("15 diciembre", DEC_15),
    ("15 de dic de 2026", DEC_15),
    ("15 de diciembre de 2027", date(2027, 12, 15)),
    ("15 dic 2027", date(2027, 12, 15)),
    ("15 ene", date(2027, 1, 15)),  # January is past this year: the next one
    ("3 de sept", date(2027, 9, 3)),
    ("3 set", date(2027, 9, 3)),
    ("3 de setiembre", date(2027, 9, 3)),
    ("28 nov", TODAY),  # today itself is not "past"
    ("27 nov", date(2027, 11, 27)),
    # Spanish: relative days
    ("hoy", TODAY),
    ("Hoy", TODAY),
    ("mañana", date(2026, 11, 29)),
    ("manana", date(2026, 11, 29)),
    ("Mañana.", date(2026, 11, 29)),
    ("pasado mañana", date(2026, 11, 30)),
    ("pasado manana", date(2026, 11, 30)),
    ("en 3 días", date(2026, 12, 1)),
    ("en 3 dias", date(2026, 12, 1)),
    ("en tres días", date(2026, 12, 1)),
    ("en un día", date(2026, 11, 29)),
    ("en 2 semanas", date(2026, 12, 12)),
    ("en una semana", date(2026, 12, 5)),
    ("en dos semanas", date(2026, 12, 12)),
    # Spanish: weekdays, the next one, never today (on a Saturday, "sábado" is a week away)
    ("lunes", date(2026, 11, 30)),
    ("martes", date(2026, 12, 1)),
    ("miércoles", date(2026, 12, 2)),
    ("miercoles", date(2026, 12, 2)),
    ("jueves", date(2026, 12, 3)),
    ("viernes", date(2026, 12, 4)),
    ("Viernes", date(2026, 12, 4)),
    ("sábado", date(2026, 12, 5)),
    ("sabado", date(2026, 12, 5)),
    ("domingo", date(2026, 11, 29)),
    ("el viernes", date(2026, 12, 4)),
    ("próximo viernes", date(2026, 12, 4)),
    ("proximo viernes", date(2026, 12, 4)),
    ("el próximo viernes", date(2026, 12, 4)),
    ("el viernes que viene", date(2026, 12, 4)),
    ("el miércoles que viene", date(2026, 12, 2)),
    # German: day and month
    ("15. Dez.", DEC_15),
    ("15. Dez", DEC_15),
    ("15 Dez", DEC_15),
    ("15.Dez.", DEC_15),
    ("15. Dezember", DEC_15),
    ("15. Dezember 2026", DEC_15),
    ("15. Dezember 2027", date(2027, 12, 15)),
    ("15. Dez. 2027", date(2027, 12, 15)),
    ("15.12.", DEC_15),
    ("15.12.2027", date(2027, 12, 15)),
    ("1. Mai", date(2027, 5, 1)),
    ("1. März", date(2027, 3, 1)),
    ("1. Maerz", date(2027, 3, 1)),
    ("1. Mrz.", date(2027, 3, 1)),
    ("1. Mär.", date(2027, 3, 1)),
    ("2. Jänner", date(2027, 1, 2)),
    ("2. Feber", date(2027, 2, 2)),
    ("3. Okt.", date(2027, 10, 3)),
    ("3. Sept.", date(2027, 9, 3)),
    # German: relative days
    ("heute", TODAY),
    ("Heute", TODAY),
    ("morgen", date(2026, 11, 29)),
    ("Morgen", date(2026, 11, 29)),
    ("übermorgen", date(2026, 11, 30)),
    ("Übermorgen", date(2026, 11, 30)),
    ("uebermorgen", date(2026, 11, 30)),
    ("in 3 Tagen", date(2026, 12, 1)),
    ("in drei Tagen", date(2026, 12, 1)),
    ("in einem Tag", date(2026, 11, 29)),
    ("in 2 Wochen", date(2026, 12, 12)),
    ("in zwei Wochen", date(2026, 12, 12)),
    ("in einer Woche", date(2026, 12, 5)),
    ("in zwölf Tagen", date(2026, 12, 10)),
    # German: weekdays
    ("Montag", date(2026, 11, 30)),
    ("Dienstag", date(2026, 12, 1)),
    ("Mittwoch", date(2026, 12, 2)),
    ("Donnerstag", date(2026, 12, 3)),
    ("Freitag", date(2026, 12, 4)),
    ("freitag", date(2026, 12, 4)),
    ("Samstag", date(2026, 12, 5)),
    ("Sonnabend", date(2026, 12, 5)),
    ("Sonntag", date(2026, 11, 29)),
    ("am Freitag", date(2026, 12, 4)),
    ("nächsten Freitag", date(2026, 12, 4)),
    ("nächster Freitag", date(2026, 12, 4)),
    ("naechsten Freitag", date(2026, 12, 4)),
    ("kommenden Freitag", date(2026, 12, 4)),
    ("Nächsten Montag", date(2026, 11, 30)),
    # English, unchanged, on the same day
    ("15 Dec", DEC_15),
    ("Dec 15", DEC_15),
    ("tomorrow", date(2026, 11, 29)),
    ("next friday", date(2026, 12, 4)),
    ("saturday", date(2026, 12, 5)),
    ("in two weeks", date(2026, 12, 12)),
    ("15 mar", date(2027, 3, 15)),  # March in English, Spanish ("marzo") and German ("März") alike
    ("15 may", date(2027, 5, 15)),
]


@pytest.mark.parametrize(("typed", "expected"), PARSED, ids=[t for t, _ in PARSED])
def test_a_spanish_or_german_date_is_understood(typed: str, expected: date) -> None:
    assert parse_date(typed, TODAY) == expected


@pytest.mark.parametrize("form", ["NFC", "NFD"])
@pytest.mark.parametrize(("typed", "expected"), [t for t in PARSED if not t[0].isascii()],
                         ids=[t for t, _ in PARSED if not t.isascii()])
def test_accents_are_read_composed_or_decomposed(form: Literal["NFC", "NFD"], typed: str, expected: date) -> None:
    text = unicodedata.normalize(form, typed)
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_name_and_abbreviation(month: int) -> None:
    names = [ES_ABBREV[month - 1], ES_FULL[month - 1], DE_ABBREV[month - 1], DE_FULL[month - 1]]
    typed = [f"15 {names[0]}", f"15 {names[0]}.", f"15 de {names[1]}", f"15 {names[1]}", f"15. {names[2]}.",
             f"15. {names[2]}", f"15 {names[2]}", f"15. {names[3]}", f"15 {names[3]}".upper()]
    assert {t: parse_date(t, TODAY) for t in typed} == dict.fromkeys(typed, fifteenth(month))


# (typed, what the traveller is told: a fragment of the reply)
REFUSED: list[tuple[str, str]] = [
    ("32 dic", "not a date in the calendar"),
    ("31 de noviembre", "not a date in the calendar"),
    ("0. Dez.", "not a date in the calendar"),
    ("15 xyz", "couldn't read"),
    ("15 de", "couldn't read"),
    ("15 de de dic", "couldn't read"),
    ("mañana mañana", "couldn't read"),
    ("morgen morgen", "couldn't read"),
    ("pasado", "couldn't read"),
    ("el", "couldn't read"),
    ("am", "couldn't read"),
    ("próximo", "couldn't read"),
    ("nächsten", "couldn't read"),
    ("el próximo", "couldn't read"),
    ("próximo 15 dic", "couldn't read"),  # a modifier belongs to a weekday only
    ("nächsten Dezember", "couldn't read"),
    ("am morgen", "couldn't read"),
    ("el lunes martes", "couldn't read"),
    ("viernes que", "couldn't read"),
    ("que viene", "couldn't read"),
    ("en muchos días", "couldn't read"),
    ("in vielen Tagen", "couldn't read"),
    ("en 3 meses", "couldn't read"),
    ("15 Junior", "couldn't read"),  # "Juni" is German June; "Junior" is no month
    ("15 Dezembers", "couldn't read"),
    ("dic 15", "couldn't read"),  # month first is English's only
]


@pytest.mark.parametrize(("typed", "told"), REFUSED, ids=[t for t, _ in REFUSED])
def test_a_bad_spanish_or_german_date_is_refused(typed: str, told: str) -> None:
    with pytest.raises(BadDate) as refused:
        parse_date(typed, TODAY)
    assert told in str(refused.value)


@pytest.mark.parametrize(("typed", "implied"), [
    ("15 dic", True), ("15 dic.", True), ("15 de diciembre", True), ("15. Dez.", True), ("15. Dezember", True),
    ("15 Dez", True), ("15.12.", True), ("1. März", True), ("15 de dic de 2026", False),
    ("15. Dezember 2026", False), ("15.12.2026", False), ("hoy", False), ("mañana", False),
    ("pasado mañana", False), ("heute", False), ("morgen", False), ("übermorgen", False), ("viernes", False),
    ("el próximo viernes", False), ("nächsten Freitag", False), ("en 3 días", False), ("in 2 Wochen", False),
    ("15 xyz", False),
])
def test_a_day_month_without_a_year_is_told_apart(typed: str, implied: bool) -> None:
    assert year_implied(typed) is implied


@pytest.mark.parametrize("typed", [
    "x" * 4096, "15 " + "dic " * 1000, "15. " * 1000, "en " * 1000 + "días", "el próximo " * 400 + "viernes",
    "1" * 4096, ". " * 2048, "15 de " * 800 + "diciembre",
])
def test_a_4kb_input_is_refused_quickly(typed: str) -> None:
    started = time.perf_counter()
    with pytest.raises(BadDate):
        parse_date(typed, TODAY)
    assert not year_implied(typed)
    elapsed = time.perf_counter() - started
    print(f"{len(typed)} characters refused in {elapsed * 1000:.3f} ms")  # a few µs: no regex sees it


def _typed(day: date, form: int, decomposed: bool, upper: bool) -> str:
    """`day` as a Spanish or German traveller types it; with the year when it is a year or more away."""
    with_year = day >= TODAY.replace(year=TODAY.year + 1)
    year = f" {day.year}" if with_year else ""
    text = [f"{day.day} {ES_ABBREV[day.month - 1]}{year}",
            f"{day.day}. {DE_ABBREV[day.month - 1]}.{year}",
            f"{day.day} de {ES_FULL[day.month - 1]}" + (f" de {day.year}" if with_year else ""),
            f"{day.day}. {DE_FULL[day.month - 1]}{year}"][form]
    text = text.upper() if upper else text
    return unicodedata.normalize("NFD" if decomposed else "NFC", text)


@settings(max_examples=300, deadline=None)
@given(ahead=st.integers(0, 399), form=st.integers(0, 3), decomposed=st.booleans(), upper=st.booleans())
def test_a_day_and_month_in_spanish_or_german_reads_back(ahead: int, form: int, decomposed: bool,
                                                          upper: bool) -> None:
    day = TODAY + timedelta(days=ahead)
    typed = _typed(day, form, decomposed, upper)
    assert parse_date(typed, TODAY) == day, typed
    assert year_implied(typed) is (day < TODAY.replace(year=TODAY.year + 1))


# ---- the one-line search -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def directory() -> AirportDirectory:
    return AirportDirectory(network_airports())


def search(text: str, directory: AirportDirectory) -> SearchQuery:
    return parse_search(text, directory, lambda _tz: TODAY)


def codes(match: object) -> list[str]:
    return sorted(a.iata for a in getattr(match, "airports", []))


# (typed, origin airports, destination airports, day, passengers)
ONE_LINE: list[tuple[str, list[str], list[str], date, int]] = [
    ("LHR JFK 15 dic 2", ["LHR"], ["JFK"], DEC_15, 2),
    ("LHR JFK 15 dic. 2", ["LHR"], ["JFK"], DEC_15, 2),
    ("LHR JFK 15. Dez. 2", ["LHR"], ["JFK"], DEC_15, 2),
    ("LHR JFK 15. Dezember", ["LHR"], ["JFK"], DEC_15, 1),
    ("madrid berlin mañana 2", ["MAD"], ["BER"], date(2026, 11, 29), 2),
    ("Madrid Berlin morgen", ["MAD"], ["BER"], date(2026, 11, 29), 1),
    ("LHR JFK 15 de diciembre 1", ["LHR"], ["JFK"], DEC_15, 1),
    ("LHR JFK nächsten Freitag 2", ["LHR"], ["JFK"], date(2026, 12, 4), 2),
    ("LHR JFK próximo viernes 2", ["LHR"], ["JFK"], date(2026, 12, 4), 2),
    ("LHR JFK el próximo viernes", ["LHR"], ["JFK"], date(2026, 12, 4), 1),
    ("LHR JFK pasado mañana 3", ["LHR"], ["JFK"], date(2026, 11, 30), 3),
    ("LHR JFK in 2 Wochen", ["LHR"], ["JFK"], date(2026, 12, 12), 1),
    ("LHR JFK 15 Dec 2", ["LHR"], ["JFK"], DEC_15, 2),  # English as before
]


@pytest.mark.parametrize(("typed", "origin", "destination", "day", "passengers"), ONE_LINE,
                         ids=[t[0] for t in ONE_LINE])
def test_a_one_line_search_reads_spanish_and_german_dates(directory: AirportDirectory, typed: str,
                                                          origin: list[str], destination: list[str], day: date,
                                                          passengers: int) -> None:
    query = search(typed, directory)
    assert query.verdict == Verdict.FOUND
    assert (codes(query.origin), codes(query.destination), query.day, query.passengers, query.return_day) == (
        origin, destination, day, passengers, None)


@pytest.mark.parametrize(("typed", "day", "back", "passengers"), [
    ("LHR JFK 15 dic 22 dic 2", DEC_15, date(2026, 12, 22), 2),
    ("LHR JFK 15. Dez. 22. Dez. 2", DEC_15, date(2026, 12, 22), 2),
    ("LHR JFK 28 dic 3 ene", date(2026, 12, 28), date(2027, 1, 3), 1),  # the return rolls into next year
    ("LHR JFK mañana 15 de diciembre", date(2026, 11, 29), DEC_15, 1),
])
def test_a_one_line_search_reads_a_spanish_or_german_return(directory: AirportDirectory, typed: str, day: date,
                                                            back: date, passengers: int) -> None:
    query = search(typed, directory)
    assert query.verdict == Verdict.FOUND
    assert (codes(query.origin), codes(query.destination), query.day, query.return_day, query.passengers) == (
        ["LHR"], ["JFK"], day, back, passengers)
