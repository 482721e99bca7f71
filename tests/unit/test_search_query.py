"""The one-line search (`LHR JFK 15 Dec 2`) as a traveller types it: what the parser reads, or why it can't.

The pure parser only (`services.search_query.parse_search`), on the network's real airports (no database) and
a fixed "today" (Friday 20 November 2026); the Telegram side is tested in tests/handlers.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.airports import AirportDirectory
from services.inventory.network import network_airports
from services.search_query import MAX_CHARS, MAX_LOOKUPS, MAX_WORDS, SearchQuery, Verdict, parse_search

TODAY = date(2026, 11, 20)
LONDON = ["LCY", "LGW", "LHR", "STN"]
NEW_YORK = ["EWR", "JFK", "LGA"]
PARIS = ["CDG", "ORY"]


@pytest.fixture(scope="module")
def directory() -> AirportDirectory:
    return AirportDirectory(network_airports())


def parse(text: str, directory: AirportDirectory) -> SearchQuery:
    return parse_search(text, directory, lambda _tz: TODAY)


def codes(match: object) -> list[str]:
    return sorted(a.iata for a in getattr(match, "airports", []))


# (typed, origin airports, destination airports, day, passengers)
FOUND: list[tuple[str, list[str], list[str], date, int]] = [
    ("LHR JFK 15 Dec 2", ["LHR"], ["JFK"], date(2026, 12, 15), 2),
    ("LHR JFK 15 Dec", ["LHR"], ["JFK"], date(2026, 12, 15), 1),
    ("lhr jfk 2026-12-15 3", ["LHR"], ["JFK"], date(2026, 12, 15), 3),
    ("LHR JFK 15/12 9", ["LHR"], ["JFK"], date(2026, 12, 15), 9),
    ("LHR JFK Dec 15", ["LHR"], ["JFK"], date(2026, 12, 15), 1),  # "15" is the day, not 15 passengers
    ("LHR JFK 15 Dec 2027 2", ["LHR"], ["JFK"], date(2027, 12, 15), 2),  # a 4-digit number is a year
    ("LHR JFK tomorrow", ["LHR"], ["JFK"], date(2026, 11, 21), 1),
    ("LHR CDG friday 2", ["LHR"], ["CDG"], date(2026, 11, 27), 2),
    ("LHR JFK 5 Jan", ["LHR"], ["JFK"], date(2027, 1, 5), 1),  # past this year: next year's
    ("London to New York, 15 Dec, 3 passengers", LONDON, NEW_YORK, date(2026, 12, 15), 3),
    ("from London to Paris on 15 Dec for 2", LONDON, PARIS, date(2026, 12, 15), 2),
    ("LHR → JFK 15 Dec 2", ["LHR"], ["JFK"], date(2026, 12, 15), 2),
    ("LHR - JFK 15 Dec", ["LHR"], ["JFK"], date(2026, 12, 15), 1),
    ("New York London 15 Dec", NEW_YORK, LONDON, date(2026, 12, 15), 1),  # two-word origin
    ("londn pariss 15 dec", LONDON, PARIS, date(2026, 12, 15), 1),  # typos
    ("Heathrow Paris 1 Dec", ["LHR"], PARIS, date(2026, 12, 1), 1),  # an airport's name
    ("  LHR   JFK   15   Dec   2  ", ["LHR"], ["JFK"], date(2026, 12, 15), 2),
]


@pytest.mark.parametrize(("typed", "origin", "destination", "day", "passengers"), FOUND,
                         ids=[f[0].strip() for f in FOUND])
def test_a_one_line_search_is_read(directory: AirportDirectory, typed: str, origin: list[str],
                                   destination: list[str], day: date, passengers: int) -> None:
    query = parse(typed, directory)
    assert query.verdict == Verdict.FOUND
    assert (codes(query.origin), codes(query.destination), query.day, query.passengers) == (
        origin, destination, day, passengers)


# (typed, verdict, the passenger count read when the places and date were)
REFUSED: list[tuple[str, Verdict, int | None]] = [
    ("LHR JFK 15 Dec 10", Verdict.BAD_PASSENGERS, 10),
    ("LHR JFK 15 Dec 0", Verdict.BAD_PASSENGERS, 0),
    ("LHR JFK 15/12 999", Verdict.BAD_PASSENGERS, 999),
    ("zqxw narnia 15 Dec", Verdict.NOT_FOUND, None),  # no place at all
    ("hello there friend", Verdict.NOT_FOUND, None),
    ("hello", Verdict.NOT_FOUND, None),
    ("", Verdict.NOT_FOUND, None),
    ("15 Dec", Verdict.NOT_FOUND, None),
    ("zq " * 150, Verdict.TOO_LONG, None),  # issue #12: not read at all
    ("x" * (MAX_CHARS + 1), Verdict.TOO_LONG, None),
    (" ".join(["LHR"] * (MAX_WORDS + 1)), Verdict.TOO_LONG, None),
]


@pytest.mark.parametrize(("typed", "verdict", "passengers"), REFUSED,
                         ids=[r[0][:30].strip() or "blank" for r in REFUSED])
def test_what_cannot_be_a_search_says_why(directory: AirportDirectory, typed: str, verdict: Verdict,
                                          passengers: int | None) -> None:
    query = parse(typed, directory)
    assert query.verdict == verdict
    if passengers is None:
        assert query.origin is None and query.destination is None and query.day is None
    else:  # places and date were read: the reply can say exactly what is wrong
        assert codes(query.origin) == ["LHR"] and codes(query.destination) == ["JFK"]
        assert query.passengers == passengers


def test_filler_words_do_not_count_towards_the_word_limit(directory: AirportDirectory) -> None:
    typed = "from London to New York on 15 Dec for 2 passengers"  # 11 words, 6 of them filler
    assert parse(typed, directory).verdict == Verdict.FOUND


def test_the_date_is_read_against_the_origins_today(directory: AirportDirectory) -> None:
    seen: list[str | None] = []

    def today_at(tz: str | None) -> date:
        seen.append(tz)
        return date(2026, 11, 21) if tz == "Asia/Tokyo" else TODAY  # already Saturday in Tokyo

    query = parse_search("HND LHR tomorrow", directory, today_at)
    assert query.verdict == Verdict.FOUND and query.day == date(2026, 11, 22) and query.today == date(2026, 11, 21)
    assert "Asia/Tokyo" in seen


# ---- return dates ------------------------------------------------------------------------------------------
# (typed, origin airports, destination airports, day, return day, passengers)
RETURNS: list[tuple[str, list[str], list[str], date, date, int]] = [
    ("LHR JFK 15 Dec 22 Dec 2", ["LHR"], ["JFK"], date(2026, 12, 15), date(2026, 12, 22), 2),
    ("LHR JFK 15 Dec 22 Dec", ["LHR"], ["JFK"], date(2026, 12, 15), date(2026, 12, 22), 1),
    ("LHR JFK 2026-12-15 2026-12-22 2", ["LHR"], ["JFK"], date(2026, 12, 15), date(2026, 12, 22), 2),
    ("london new york 15 dec - 22 dec", LONDON, NEW_YORK, date(2026, 12, 15), date(2026, 12, 22), 1),
    ("London to New York 15 Dec to 22 Dec", LONDON, NEW_YORK, date(2026, 12, 15), date(2026, 12, 22), 1),
    ("LHR JFK 15/12 22/12", ["LHR"], ["JFK"], date(2026, 12, 15), date(2026, 12, 22), 1),
    ("LHR JFK tomorrow 22 Dec", ["LHR"], ["JFK"], date(2026, 11, 21), date(2026, 12, 22), 1),
    ("LHR JFK Dec 15 Dec 22 3", ["LHR"], ["JFK"], date(2026, 12, 15), date(2026, 12, 22), 3),
    ("LHR JFK 15 Dec 2026 22 Dec 2026 2", ["LHR"], ["JFK"], date(2026, 12, 15), date(2026, 12, 22), 2),
    ("LHR JFK 15 Dec 15 Dec", ["LHR"], ["JFK"], date(2026, 12, 15), date(2026, 12, 15), 1),  # same-day return
    ("from London to Paris on 15 Dec - 3 Jan for 2", LONDON, PARIS, date(2026, 12, 15), date(2027, 1, 3), 2),
    # the return's day-month is past the outbound this year: next year's
    ("LHR JFK 28 Dec 3 Jan", ["LHR"], ["JFK"], date(2026, 12, 28), date(2027, 1, 3), 1),
    ("LHR JFK 28/12 3/1 2", ["LHR"], ["JFK"], date(2026, 12, 28), date(2027, 1, 3), 2),
    ("LHR JFK 2027-12-28 3 Jan", ["LHR"], ["JFK"], date(2027, 12, 28), date(2028, 1, 3), 1),
    ("LHR JFK 2027-06-01 3 Jun", ["LHR"], ["JFK"], date(2027, 6, 1), date(2027, 6, 3), 1),
]


@pytest.mark.parametrize(("typed", "origin", "destination", "day", "return_day", "passengers"), RETURNS,
                         ids=[r[0] for r in RETURNS])
def test_a_return_date_is_read(directory: AirportDirectory, typed: str, origin: list[str], destination: list[str],
                               day: date, return_day: date, passengers: int) -> None:
    query = parse(typed, directory)
    assert query.verdict == Verdict.FOUND, query
    assert (codes(query.origin), codes(query.destination), query.day, query.return_day, query.passengers) == (
        origin, destination, day, return_day, passengers)


@pytest.mark.parametrize(("typed", "day", "return_day"), [
    ("LHR JFK 2026-12-22 2026-12-15", date(2026, 12, 22), date(2026, 12, 15)),
    ("LHR JFK 22/12/2026 15/12/2026 2", date(2026, 12, 22), date(2026, 12, 15)),
    ("LHR JFK 22 Dec 15 Dec 2026", date(2026, 12, 22), date(2026, 12, 15)),  # the return's year is explicit
    ("LHR JFK 15 Dec tomorrow", date(2026, 12, 15), date(2026, 11, 21)),  # a relative day is not rolled
])
def test_an_explicit_return_before_the_outbound_is_named(directory: AirportDirectory, typed: str, day: date,
                                                         return_day: date) -> None:
    query = parse(typed, directory)
    assert query.verdict == Verdict.RETURN_BEFORE_OUTBOUND, query
    assert codes(query.origin) == ["LHR"] and codes(query.destination) == ["JFK"]
    assert (query.day, query.return_day) == (day, return_day)  # both kept as read


def test_a_return_rolled_one_year_that_is_still_before_the_outbound_is_named(directory: AirportDirectory) -> None:
    query = parse("LHR JFK 2029-06-01 3 Jun", directory)  # 3 Jun reads 2027, rolled once: 2028
    assert query.verdict == Verdict.RETURN_BEFORE_OUTBOUND
    assert (query.day, query.return_day) == (date(2029, 6, 1), date(2028, 6, 3))


@pytest.mark.parametrize(("typed", "day", "passengers"), [
    ("LHR JFK 15 Dec 22", date(2026, 12, 15), 22),  # 22 passengers, not a return on the 22nd
    ("LHR JFK Dec 15 12", date(2026, 12, 15), 12),
    ("LHR JFK 15/12 22", date(2026, 12, 15), 22),
])
def test_a_trailing_number_is_still_the_passenger_count(directory: AirportDirectory, typed: str, day: date,
                                                        passengers: int) -> None:
    query = parse(typed, directory)
    assert query.verdict == Verdict.BAD_PASSENGERS
    assert (query.day, query.return_day, query.passengers) == (day, None, passengers)


def test_bad_passengers_with_a_return_keeps_both_dates(directory: AirportDirectory) -> None:
    query = parse("LHR JFK 15 Dec 22 Dec 12", directory)
    assert query.verdict == Verdict.BAD_PASSENGERS and query.passengers == 12
    assert (query.day, query.return_day) == (date(2026, 12, 15), date(2026, 12, 22))


@pytest.mark.parametrize("typed", [f[0] for f in FOUND], ids=[f[0].strip() for f in FOUND])
def test_one_way_searches_have_no_return(directory: AirportDirectory, typed: str) -> None:
    assert parse(typed, directory).return_day is None


def test_two_dates_without_two_places_fall_back_to_one_date(directory: AirportDirectory) -> None:
    # "15 Dec" then "22 Dec" reads as two dates, but then "LHR" alone is not two places: half a search
    query = parse("LHR 15 Dec 22 Dec", directory)
    assert query.verdict == Verdict.PARTIAL and codes(query.origin) == ["LHR"] and query.destination is None
    assert (query.day, query.return_day) == (date(2026, 12, 15), date(2026, 12, 22))
    query = parse("LHR JFK Dec 15", directory)  # one date, not 15 passengers and not two dates
    assert query.verdict == Verdict.FOUND
    assert (query.day, query.return_day, query.passengers) == (date(2026, 12, 15), None, 1)


def test_an_unreadable_return_keeps_the_route_and_names_the_date(directory: AirportDirectory) -> None:
    query = parse("LHR JFK 15 Dec 31/02", directory)
    assert query.verdict == Verdict.PARTIAL and (codes(query.origin), codes(query.destination)) == (["LHR"], ["JFK"])
    assert query.day is None and query.bad_date_text == "15 Dec 31/02"


HOSTILE_DATES = [
    " ".join(["15 Dec"] * 6),
    " ".join(["15", "Dec"] * 5) + " 2",
    " ".join(str(n) for n in range(1, 13)),
    " ".join(["15/12"] * 12),
    " ".join(["2026-12-15"] * 12),
    " ".join(["tomorrow"] * 12),
    "LHR " + " ".join(["15 Dec"] * 5) + " 2",
    "london " + " ".join(["dec 15"] * 5) + " 2",
    "LHR JFK " + " ".join(["1 dec"] * 5),
    "london paris tokyo dubai zurich istanbul 1 dec 2 dec 3 dec",
    "zqxw zqxw zqxw zqxw zqxw zqxw 15 dec 22 dec 2",
    "londn pariss nwe yrok tokio zurik 1/12 2/12 3",
]


@pytest.mark.parametrize("typed", HOSTILE_DATES, ids=[h[:40] for h in HOSTILE_DATES])
def test_messages_full_of_dates_do_bounded_work(directory: AirportDirectory, typed: str) -> None:
    before = directory.counters.lookups
    query = parse(typed, directory)
    assert query.stats.words_considered <= MAX_WORDS
    assert query.stats.lookups <= MAX_LOOKUPS
    assert directory.counters.lookups - before == query.stats.lookups


def test_only_splits_whose_dates_read_are_looked_up(directory: AirportDirectory) -> None:
    query = parse(" ".join(str(n) for n in range(20, 32)), directory)  # no date in any tail: no look-ups
    assert query.verdict == Verdict.NOT_FOUND and query.stats.lookups == 0


# ---- half-understood searches (issue #15): what was read is kept, what wasn't is named -----------------------
# (typed, origin, destination, day, passengers, unknown words and the place they stood for, bad date text)
PARTIAL: list[tuple[str, list[str], list[str], date | None, int, str | None, str | None, str | None]] = [
    ("LHR XYZ 15 Dec", ["LHR"], [], date(2026, 12, 15), 1, "XYZ", "destination", None),
    ("XYZ JFK 15 Dec 2", [], ["JFK"], date(2026, 12, 15), 2, "XYZ", "origin", None),
    ("London Paris", LONDON, PARIS, None, 1, None, None, None),  # no date: the calendar asks it
    ("LHR JFK someday 2", ["LHR"], ["JFK"], None, 2, None, None, "someday"),
    ("LHR JFK 31/02", ["LHR"], ["JFK"], None, 1, None, None, "31/02"),
    ("LHR JFK", ["LHR"], ["JFK"], None, 1, None, None, None),
    ("LHR 15 Dec 2", ["LHR"], [], date(2026, 12, 15), 2, None, None, None),  # one place: the destination asked
    ("Atlantis 15 Dec", ["ATL"], [], date(2026, 12, 15), 1, None, None, None),  # a guess with a date: kept to ask
    ("Atlantis Narnia 15 Dec", ["ATL"], [], date(2026, 12, 15), 1, "Narnia", "destination", None),
]


@pytest.mark.parametrize(("typed", "origin", "destination", "day", "passengers", "unknown", "slot", "bad_date"),
                         PARTIAL, ids=[p[0] for p in PARTIAL])
def test_a_half_understood_search_keeps_what_was_read(directory: AirportDirectory, typed: str, origin: list[str],
                                                      destination: list[str], day: date | None, passengers: int,
                                                      unknown: str | None, slot: str | None,
                                                      bad_date: str | None) -> None:
    query = parse(typed, directory)
    assert query.verdict == Verdict.PARTIAL, query
    assert (codes(query.origin), codes(query.destination), query.day, query.passengers) == (
        origin, destination, day, passengers)
    assert (query.unknown, query.unknown_slot, query.bad_date_text) == (unknown, slot, bad_date)


@pytest.mark.parametrize(("typed", "day"), [
    ("LHR JFK 12/25", date(2026, 12, 25)),  # month first: 25 can't be a month
    ("LHR JFK next friday", date(2026, 11, 27)),
    ("LHR JFK in two weeks", date(2026, 12, 4)),
    ("LHR JFK in 3 days 2", date(2026, 11, 23)),
    ("LHR JFK today", TODAY),
    ("LHR JFK tomorrow 22 Dec", date(2026, 11, 21)),
])
def test_relative_and_us_dates_read_whole(directory: AirportDirectory, typed: str, day: date) -> None:
    query = parse(typed, directory)
    assert query.verdict == Verdict.FOUND and query.day == day


def test_a_return_date_is_still_read_with_a_relative_outbound(directory: AirportDirectory) -> None:
    query = parse("LHR JFK next friday 4 Dec 2", directory)
    assert query.verdict == Verdict.FOUND
    assert (query.day, query.return_day, query.passengers) == (date(2026, 11, 27), date(2026, 12, 4), 2)


def test_a_fuzzy_guess_is_read_but_not_sure(directory: AirportDirectory) -> None:
    query = parse("Atlantis Paris 15 Dec", directory)  # the handler asks "Did you mean Atlanta (ATL)?"
    assert query.verdict == Verdict.FOUND and query.origin is not None and not query.origin.sure
    assert query.destination is not None and query.destination.sure


def test_numbers_are_never_looked_up_as_places(directory: AirportDirectory) -> None:
    query = parse("LHR 20 21 22 23 24 25 26 27 28 29 30", directory)
    assert query.stats.lookups <= 2  # "LHR" only (and the one-date readings' cuts)


# ---- one-way queries read as before (properties) -----------------------------------------------------------
MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _next_occurrence(day: int, month: int) -> date:
    this_year = date(TODAY.year, month, day)
    return this_year if this_year >= TODAY else date(TODAY.year + 1, month, day)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.integers(1, 28), month=st.integers(1, 12), form=st.sampled_from(["{d} {m}", "{m} {d}", "{d}/{n}"]),
       passengers=st.one_of(st.none(), st.integers(0, 99)))
def test_one_way_queries_read_as_before(directory: AirportDirectory, day: int, month: int, form: str,
                                        passengers: int | None) -> None:
    typed = "LHR JFK " + form.format(d=day, m=MONTH_ABBR[month - 1], n=month)
    if passengers is not None:
        typed += f" {passengers}"
    query = parse(typed, directory)
    pax = 1 if passengers is None else passengers
    expected = Verdict.FOUND if 1 <= pax <= 9 else Verdict.BAD_PASSENGERS
    assert (query.verdict, query.day, query.return_day, query.passengers) == (
        expected, _next_occurrence(day, month), None, pax), typed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(out=st.dates(date(2026, 11, 20), date(2027, 11, 19)), stay=st.integers(0, 60),
       form=st.sampled_from(["{d} {m}", "{m} {d}", "{d}/{n}", "{iso}"]), passengers=st.one_of(st.none(),
                                                                                           st.integers(1, 9)))
def test_a_round_trip_reads_both_dates(directory: AirportDirectory, out: date, stay: int, form: str,
                                       passengers: int | None) -> None:
    back = out + timedelta(days=stay)

    def typed_date(d: date) -> str:
        return form.format(d=d.day, m=MONTH_ABBR[d.month - 1], n=d.month, iso=d.isoformat())

    typed = f"LHR JFK {typed_date(out)} {typed_date(back)}" + ("" if passengers is None else f" {passengers}")
    query = parse(typed, directory)
    assert (query.verdict, query.day, query.return_day, query.passengers) == (
        Verdict.FOUND, out, back, passengers or 1), typed
