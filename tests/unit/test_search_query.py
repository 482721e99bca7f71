"""The one-line search (`LHR JFK 15 Dec 2`) as a traveller types it: what the parser reads, or why it can't.

The pure parser only (`services.search_query.parse_search`), on the network's real airports (no database) and
a fixed "today" (Friday 20 November 2026); the Telegram side is tested in tests/handlers.
"""

from __future__ import annotations

from datetime import date

import pytest

from services.airports import AirportDirectory
from services.inventory.network import network_airports
from services.search_query import MAX_CHARS, MAX_WORDS, SearchQuery, Verdict, parse_search

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
    ("LHR JFK", Verdict.NOT_FOUND, None),  # no date
    ("LHR 15 Dec 2", Verdict.NOT_FOUND, None),  # one place
    ("LHR QQQ 15 Dec", Verdict.NOT_FOUND, None),  # an unknown place
    ("Atlantis Narnia 15 Dec", Verdict.NOT_FOUND, None),
    ("LHR JFK 31/02", Verdict.NOT_FOUND, None),  # no such day
    ("LHR JFK someday", Verdict.NOT_FOUND, None),
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
